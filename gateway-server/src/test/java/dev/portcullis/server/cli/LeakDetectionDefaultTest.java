package dev.portcullis.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/** The process entry point turns Netty's leak sampling off, unless the operator names a level. */
@Isolated // changes the JVM-wide leak detection level and system properties
class LeakDetectionDefaultTest {
    private static final String PROPERTY = "io.netty.leakDetection.level";
    private Level before;
    private String property;

    @BeforeEach
    void remember() {
        before = ResourceLeakDetector.getLevel();
        property = System.getProperty(PROPERTY);
        ResourceLeakDetector.setLevel(Level.SIMPLE);
    }

    @AfterEach
    void restore() {
        ResourceLeakDetector.setLevel(before);
        if (property == null) {
            System.clearProperty(PROPERTY);
        } else {
            System.setProperty(PROPERTY, property);
        }
    }

    @Test
    void withoutALevelGivenTheSamplingIsOff() {
        System.clearProperty(PROPERTY);
        PortcullisCommand.defaultLeakDetection();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(Level.DISABLED);
    }

    @Test
    void aLevelGivenByTheOperatorIsKept() {
        System.setProperty(PROPERTY, "simple");
        PortcullisCommand.defaultLeakDetection();
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(Level.SIMPLE);
    }
}
