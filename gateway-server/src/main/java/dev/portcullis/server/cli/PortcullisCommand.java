package dev.portcullis.server.cli;

public final class PortcullisCommand {
    public static void main(String[] args) {}
}
