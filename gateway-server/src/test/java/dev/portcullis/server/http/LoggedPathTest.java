package dev.portcullis.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The logged form of a raw request target: no query, fragment or userinfo. */
class LoggedPathTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "/a/b|/a/b",
        "/a/b?token=s3cret|/a/b",
        "/cb#access_token=s3cret|/cb",
        "/cb#frag?x=s3cret|/cb",
        "/x/..;/admin?password=s3cret|/x/..;/admin",
        "http://user:s3cret@host.example:8080/p?q=1|http://host.example:8080/p",
        "http://a@b@host.example|http://host.example",
        "http://host.example/p@q|http://host.example/p@q",
        "/redirect?to=http://u:s3cret@x|/redirect",
        "*|*",
        "''|''",
    })
    void dropsQueryFragmentAndUserinfo(String raw, String logged) {
        assertThat(LoggedPath.of(raw)).isEqualTo(logged);
    }
}
