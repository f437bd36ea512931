package peer;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.apache.dubbo.config.ApplicationConfig;
import org.apache.dubbo.config.MetricsConfig;
import org.apache.dubbo.config.RegistryConfig;
import org.apache.dubbo.config.nested.AggregationConfig;
import org.apache.dubbo.config.nested.PrometheusConfig;

/**
 * What the provider and the consumer share: `--key=value` flags, loopback pinning, and the
 * application, registry and metrics configs (Dubbo's defaults unless a flag says otherwise).
 */
final class Common {
    private Common() {}

    /** Held so java.util.logging keeps the level (it holds loggers weakly). */
    private static final Logger QUIET = Logger.getLogger("org.apache.dubbo.common.utils.NetUtils");

    /** Parses `--key=value` arguments; anything else, or an unknown key, is an error. */
    static Map<String, String> flags(String[] args, Set<String> known) {
        Map<String, String> out = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 3) {
                throw new IllegalArgumentException("expected --key=value, got " + arg);
            }
            String key = arg.substring(2, eq);
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown flag --" + key + " (known: " + known + ")");
            }
            out.put(key, arg.substring(eq + 1));
        }
        return out;
    }

    static int intFlag(Map<String, String> flags, String key, int fallback) {
        String value = flags.get(key);
        if (value == null) return fallback;
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be an integer, got " + value);
        }
    }

    static String oneOf(Map<String, String> flags, String key, String fallback, Set<String> allowed) {
        String value = flags.getOrDefault(key, fallback);
        if (value != null && !allowed.contains(value)) {
            throw new IllegalArgumentException("--" + key + " must be one of " + allowed + ", got " + value);
        }
        return value;
    }

    /**
     * Registers 127.0.0.1: Dubbo refuses `127.*` in DUBBO_IP_TO_REGISTRY and otherwise picks the
     * first non-loopback interface, so every interface is ignored and it falls back to
     * 127.0.0.1. The Triple port binds loopback through {@link LoopbackTransporter}, QoS
     * (metrics) through its qos-host.
     */
    static void pinLoopback() {
        // With every interface ignored, Dubbo's NetUtils logs a warning per address lookup.
        QUIET.setLevel(Level.SEVERE);
        Logger.getLogger("").setLevel(Level.WARNING);
        System.setProperty("java.net.preferIPv4Stack", "true");
        System.setProperty("dubbo.network.interface.ignored", ".*");
    }

    /** The application: QoS (which serves Prometheus `/metrics`) on 127.0.0.1:metricsPort. */
    static ApplicationConfig application(String name, int metricsPort, String registerMode) {
        ApplicationConfig app = new ApplicationConfig(name);
        app.setQosEnable(true);
        app.setQosHost("127.0.0.1");
        app.setQosPort(metricsPort);
        app.setQosAcceptForeignIp(false);
        app.setLogger("jdk");
        if (registerMode != null) app.setRegisterMode(registerMode);
        return app;
    }

    /** ZooKeeper from ZK_ADDRESS (Curator 5), or no registry for direct calls. */
    static RegistryConfig registry(boolean none) {
        if (none) return new RegistryConfig(RegistryConfig.NO_AVAILABLE);
        String address = System.getenv("ZK_ADDRESS");
        if (address == null || address.isEmpty()) address = "127.0.0.1:2181";
        return new RegistryConfig("zookeeper://" + address);
    }

    /** Prometheus metrics with Dubbo's local aggregation (the `_aggregate` families). */
    static MetricsConfig metrics() {
        MetricsConfig metrics = new MetricsConfig();
        metrics.setProtocol("prometheus");
        metrics.setEnableJvm(true);
        metrics.setEnableRpc(true);
        metrics.setEnableRegistry(true);
        AggregationConfig aggregation = new AggregationConfig();
        aggregation.setEnabled(true);
        aggregation.setTimeWindowSeconds(120);
        aggregation.setBucketNum(10);
        metrics.setAggregation(aggregation);
        PrometheusConfig prometheus = new PrometheusConfig();
        PrometheusConfig.Exporter exporter = new PrometheusConfig.Exporter();
        exporter.setEnabled(true);
        prometheus.setExporter(exporter);
        metrics.setPrometheus(prometheus);
        return metrics;
    }

    static void log(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
