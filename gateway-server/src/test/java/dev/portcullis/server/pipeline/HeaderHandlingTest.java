package dev.portcullis.server.pipeline;

import dev.portcullis.core.http.HeaderValues;
import dev.portcullis.core.config.ForwardedIdentity;
import dev.portcullis.core.config.IdentitySettings;
import dev.portcullis.core.config.UpstreamIdentityHeaders;
import dev.portcullis.core.identity.Identity;
import dev.portcullis.core.identity.IdentityChain;
import dev.portcullis.core.identity.IdentitySource;
import dev.portcullis.core.net.Cidr;
import dev.portcullis.core.net.CidrSet;
import dev.portcullis.core.net.IpAddress;
import dev.portcullis.server.http.HopByHopHeaders;
import dev.portcullis.server.http.HeaderTokens;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HeaderHandlingTest {

    @Test
    void hopByHopHeadersAndTheOnesConnectionNamesAreRemoved() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Connection", "keep-alive, X-Hop")
                .add("Connection", "x-other")
                .add("X-Hop", "1")
                .add("X-Other", "2")
                .add("Keep-Alive", "timeout=5")
                .add("Proxy-Authorization", "Basic x")
                .add("Proxy-Connection", "keep-alive")
                .add("TE", "trailers")
                .add("Trailer", "X-Sum")
                .add("Upgrade", "websocket")
                .add("Transfer-Encoding", "chunked")
                .add("X-Kept", "yes");
        HopByHopHeaders.strip(headers);
        assertThat(headers.names()).containsExactlyInAnyOrder("Transfer-Encoding", "X-Kept");
    }

    @Test
    void connectionNeverRemovesFramingOrRoutingHeadersFromAResponse() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Connection", "Content-Length, Host, X-Forwarded-For")
                .add("Content-Length", "5")
                .add("Host", "h")
                .add("X-Forwarded-For", "1.2.3.4");
        HopByHopHeaders.strip(headers);
        assertThat(headers.names()).containsExactlyInAnyOrder("Content-Length", "Host", "X-Forwarded-For");
    }

    @Test
    void untrustedPeersLoseEveryForwardingHeaderInEverySpelling() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("X-Forwarded-For", "1.1.1.1")
                .add("x_forwarded_proto", "https")
                .add("X-FORWARDED-HOST", "evil")
                .add("Forwarded", "for=1.1.1.1")
                .add("X-Real-IP", "1.1.1.1")
                .add("X-Client-IP", "1.1.1.1")
                .add("X_Auth_Subject", "admin")
                .add("Accept", "*/*");
        ForwardedHeaderSanitizer.sanitize(headers, false, List.of("X-Auth-Subject", "X-Auth-Roles"));
        assertThat(headers.names()).containsExactly("Accept");
    }

    @Test
    void trustedPeersKeepForwardingHeadersButNeverGatewayHeaders() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("X-Forwarded-For", "1.1.1.1")
                .add("x-auth-roles", "admin")
                .add("X_AUTH_SUBJECT", "root");
        ForwardedHeaderSanitizer.sanitize(headers, true, List.of("X-Auth-Subject", "X-Auth-Roles"));
        assertThat(headers.names()).containsExactly("X-Forwarded-For");
    }

    /** The gateway reads and extends the dashed spellings only; a CGI-style upstream would read these as the same. */
    @Test
    void trustedPeersLoseTheUnderscoreSpellingsOfForwardingHeaders() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("X-Forwarded-For", "1.1.1.1")
                .add("X-Forwarded_For", "9.9.9.9")
                .add("X_Forwarded_Host", "internal.example")
                .add("x_forwarded_proto", "https")
                .add("X_Real_IP", "9.9.9.9")
                .add("True_Client_IP", "9.9.9.9")
                .add("X-Real-IP", "1.1.1.1")
                .add("X_Tenant", "kept");
        ForwardedHeaderSanitizer.sanitize(headers, true, List.of("X-Auth-Subject"));
        assertThat(headers.names()).containsExactly("X-Forwarded-For", "X-Real-IP", "X_Tenant");
    }

    @Test
    void untrustedPeersKeepOnlyTheBelievedForwardedIdentityHeaders() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("X-Forwarded-For", "1.1.1.1")
                .add("x-forwarded-user", "alice")
                .add("X-Auth-Subject", "root")
                .add("Accept", "*/*");
        ForwardedHeaderSanitizer.sanitize(headers, false, List.of("X-Auth-Subject"), List.of("X-Forwarded-User"));
        assertThat(headers.names()).containsExactly("x-forwarded-user", "Accept");
    }

    @Test
    void aBelievedPeersForwardedIdentityHeadersGoOnlyWhenTheIdentityCameFromThem() {
        IdentityChain chain = new IdentityChain(null, new IdentitySettings(List.of(),
                new ForwardedIdentity(CidrSet.of(List.of(Cidr.parse("10.0.0.0/8"))), "X-Forwarded-User",
                        "X-Forwarded-Roles"),
                UpstreamIdentityHeaders.DEFAULT));
        IpAddress proxy = IpAddress.parse("10.1.2.3");
        Identity jwt = new Identity("bob", Set.of("reader"), Map.of(), IdentitySource.JWT, null);
        Identity forwarded = new Identity("alice", Set.of(), Map.of(), IdentitySource.FORWARDED, null);

        HttpHeaders fromJwt = new DefaultHttpHeaders()
                .add("X-Forwarded-User", "alice").add("x_forwarded_roles", "admin").add("Accept", "*/*");
        IdentityHeaders.setForUpstream(fromJwt, jwt, chain, proxy);
        assertThat(fromJwt.names()).containsExactlyInAnyOrder("Accept", "X-Auth-Subject", "X-Auth-Roles");
        assertThat(fromJwt.get("X-Auth-Subject")).isEqualTo("bob");

        HttpHeaders fromProxy = new DefaultHttpHeaders().add("X-Forwarded-User", "alice");
        IdentityHeaders.setForUpstream(fromProxy, forwarded, chain, proxy);
        assertThat(fromProxy.names()).containsExactlyInAnyOrder("X-Forwarded-User", "X-Auth-Subject");
    }

    @Test
    void headerLinesAreCountedCaseInsensitivelyUpToTheGivenMaximum() {
        HttpHeaders headers = new DefaultHttpHeaders()
                .add("Host", "a.example")
                .add("authorization", "Bearer a")
                .add("AUTHORIZATION", "Bearer b")
                .add("Authorization", "Bearer c");
        assertThat(HeaderTokens.lines(headers, "host", 2)).isEqualTo(1);
        assertThat(HeaderTokens.lines(headers, "Authorization", 2)).isEqualTo(2);
        assertThat(HeaderTokens.lines(headers, "authorization", 5)).isEqualTo(3);
        assertThat(HeaderTokens.lines(headers, "cookie", 2)).isZero();
    }

    @Test
    void identityValuesArePercentEncodedWhereTheyAreNotPlainVisibleAscii() {
        assertThat(HeaderTokens.encodeValue("alice@example.com", ' ')).isEqualTo("alice@example.com");
        assertThat(HeaderTokens.encodeValue("ąlice", ' ')).isEqualTo("%C4%85lice");
        assertThat(HeaderTokens.encodeValue("ęlice", ' ')).isEqualTo("%C4%99lice");
        assertThat(HeaderTokens.encodeValue("eve\r\nX: y", ' ')).isEqualTo("eve%0D%0AX:%20y");
        assertThat(HeaderTokens.encodeValue("100%", ' ')).isEqualTo("100%25");
        assertThat(HeaderTokens.encodeValue("user,admin", ',')).isEqualTo("user%2Cadmin");
        String plain = "reader";
        assertThat(HeaderTokens.encodeValue(plain, ',')).isSameAs(plain);
    }

    @Test
    void commaSeparatedTokensAreTrimmedAndEmptyOnesSkipped() {
        List<String> tokens = new ArrayList<>();
        HeaderValues.forEachElement(" a, ,b ,,c ", tokens::add);
        assertThat(tokens).containsExactly("a", "b", "c");
    }
}
