package dev.portcullis.server.cli;

import picocli.CommandLine;

/** Reports the version from the jar manifest. */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = PortcullisCommand.class.getPackage().getImplementationVersion();
        return new String[] {"portcullis " + (version == null ? "development build" : version)};
    }
}
