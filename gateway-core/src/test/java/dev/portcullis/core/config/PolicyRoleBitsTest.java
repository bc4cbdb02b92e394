package dev.portcullis.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.core.geo.GeoLookup;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.core.policy.AccessRequest;
import dev.portcullis.core.policy.Policy;
import dev.portcullis.core.policy.RequestHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Role conditions compiled from a config decide as role sets would, also for a policy naming more roles than fit the
 * bits ({@code RoleBits}): the roles past them are checked in the identity's role set.
 */
class PolicyRoleBitsTest {

    private static final IpAddress CLIENT = IpAddress.parse("192.0.2.1");
    private static final int ROLES = 70;

    @TempDir
    Path dir;

    @Test
    void aPolicyOfMoreRolesThanBitsDecidesEachOfThem() throws Exception {
        StringBuilder yaml = new StringBuilder("upstream: { url: \"http://127.0.0.1:3000\" }\ndefault: deny\nrules:\n");
        for (int i = 0; i < ROLES; i++) {
            yaml.append("  - { name: r").append(i).append(", match: { paths: [\"/r").append(i)
                    .append("/**\"], roles: [role").append(i).append(", shared] }, action: allow }\n");
        }
        yaml.append("  - { name: both, match: { paths: [\"/both/**\"], all_roles: [role3, role69] }, action: allow }\n");
        yaml.append("  - { name: any, match: { paths: [\"/any/**\"], any: [ { roles: [role68] }, { all_roles: [role1,"
                + " role2] } ] }, action: allow }\n");
        Policy policy = ConfigLoader.load("policy.yaml", yaml.toString().getBytes(StandardCharsets.UTF_8), dir)
                .policy();

        for (int i = 0; i < ROLES; i++) {
            assertThat(allowed(policy, "/r" + i + "/x", "role" + i)).as("role%d on its rule", i).isTrue();
            assertThat(allowed(policy, "/r" + i + "/x", "shared")).as("shared on rule %d", i).isTrue();
            assertThat(allowed(policy, "/r" + i + "/x", "role" + (i + 1) % ROLES)).as("rule %d", i).isFalse();
        }
        assertThat(allowed(policy, "/both/x", "role69", "role3")).isTrue();
        assertThat(allowed(policy, "/both/x", "role69")).isFalse();
        assertThat(allowed(policy, "/both/x", "role3")).isFalse();
        assertThat(allowed(policy, "/any/x", "role68")).isTrue();
        assertThat(allowed(policy, "/any/x", "role2", "role1")).isTrue();
        assertThat(allowed(policy, "/any/x", "role1")).isFalse();
        assertThat(allowed(policy, "/any/x")).isFalse();
    }

    private static boolean allowed(Policy policy, String path, String... roles) {
        Identity identity = roles.length == 0 ? Identity.ANONYMOUS
                : new Identity("alice", Set.of(roles), Map.of(), IdentitySource.FORWARDED, null);
        return policy.evaluate(new AccessRequest("GET", path, "", CLIENT, CLIENT, RequestHeaders.of(Map.of()),
                identity, null, path, Clock.systemUTC(), GeoLookup.NONE)).allowed();
    }
}
