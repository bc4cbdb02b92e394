package dev.portcullis.core.config;

import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * Reads the CIDR lists of a config (a rule's {@code ip}, {@code clients.trusted_proxies} and
 * {@code identity.forwarded.trusted_proxies}), warning of entries that are read otherwise than they are written.
 */
final class CidrLists {

    private CidrLists() {}

    /** Checks one parsed entry further, reporting what it finds at {@code path}; false refuses the entry. */
    interface EntryCheck {
        boolean accept(String text, Cidr cidr, String path);
    }

    /**
     * {@code clients.trusted_proxies}: the peers whose forwarding headers are believed; empty when unusable
     * (reported). A {@code /0} is warned of, not refused: behind a platform load balancer every peer may be one.
     */
    static CidrSet clientProxies(List<String> texts, Problems problems) {
        CidrSet proxies = parse(texts, "clients.trusted_proxies", problems, (text, cidr, path) -> {
            if (cidr.prefixLength() == 0) {
                // an IPv6 /0 also holds every IPv4-mapped address, so every peer
                problems.warn(path, ConfigValues.quote(text) + " trusts every "
                        + (cidr.network().isIPv4() ? "IPv4 peer" : "peer, IPv4 and IPv6")
                        + ": any client can choose its client IP with X-Forwarded-For (expected: your load"
                        + " balancers' or proxies' addresses)");
            }
            return true;
        });
        return proxies == null ? CidrSet.EMPTY : proxies;
    }

    /**
     * Parses each entry of the list at {@code path}, reporting an invalid one at its index and warning of host bits
     * set, then hands it to {@code check}; null when an entry was invalid or refused.
     */
    static @Nullable CidrSet parse(List<String> texts, String path, Problems problems, EntryCheck check) {
        List<Cidr> cidrs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String itemPath = KeyPaths.index(path, i);
            String text = texts.get(i);
            Cidr cidr = problems.parse(itemPath, () -> Cidr.parse(text));
            if (cidr == null) {
                continue;
            }
            warnOfHostBits(text, cidr, itemPath, problems::warn);
            if (check.accept(text, cidr, itemPath)) {
                cidrs.add(cidr);
            }
        }
        return cidrs.size() == texts.size() ? CidrSet.of(cidrs) : null;
    }

    /**
     * Warns at {@code path} when {@code text}, which parsed as {@code cidr}, has host bits set: parsing clears them
     * ({@code 10.0.0.1/8} is {@code 10.0.0.0/8}, as in nginx and Envoy), which may hide a typo that widens a range.
     */
    static void warnOfHostBits(String text, Cidr cidr, String path, BiConsumer<String, String> warning) {
        int slash = text.indexOf('/');
        IpAddress written = slash < 0 ? null : IpAddress.parseOrNull(text, 0, slash);
        // Compared as 128-bit values, in which an IPv4 network is held IPv4-mapped: "::ffff:192.0.2.1/120", read as
        // 192.0.2.0/24, has host bits too. A bare address is a /32 or /128 and never has any.
        if (written == null || written.equals(cidr.network())) {
            return;
        }
        warning.accept(path, ConfigValues.quote(text) + " has host bits set: it is read as " + cidr + " (expected: "
                + cidr + ", or " + written + (written.isIPv4() ? "/32" : "/128") + " for one address)");
    }
}
