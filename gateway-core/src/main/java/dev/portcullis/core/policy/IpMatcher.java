package dev.portcullis.core.policy;

import dev.portcullis.core.net.CidrSet;
import java.util.List;

/** A condition that holds when the client IP (SPEC 3.3) is inside a set of networks ({@code ip}). */
public final class IpMatcher implements RequestMatcher {

    private final CidrSet cidrs;
    private final List<String> sourceTexts;

    private IpMatcher(CidrSet cidrs, List<String> sourceTexts) {
        this.cidrs = cidrs;
        this.sourceTexts = sourceTexts;
    }

    /**
     * A matcher for {@code cidrs}.
     *
     * @param sourceTexts the networks as written in the config, for explanations
     */
    public static IpMatcher of(CidrSet cidrs, List<String> sourceTexts) {
        if (cidrs.size() == 0) {
            throw new IllegalArgumentException("[] is not a valid ip condition (expected: at least one CIDR)");
        }
        return new IpMatcher(cidrs, List.copyOf(sourceTexts));
    }

    /** The networks. */
    public CidrSet cidrs() {
        return cidrs;
    }

    /** The networks as written in the config. */
    public List<String> sourceTexts() {
        return sourceTexts;
    }

    @Override
    public boolean matches(AccessRequest request) {
        return cidrs.contains(request.clientIp());
    }

    @Override
    public String explainMatch(AccessRequest request) {
        return "ip " + request.clientIp() + " in " + Explain.list(sourceTexts);
    }

    @Override
    public String explainFailure(AccessRequest request) {
        return "ip " + request.clientIp() + " not in " + Explain.list(sourceTexts);
    }

    @Override
    public String toString() {
        return "ip " + Explain.list(sourceTexts);
    }
}
