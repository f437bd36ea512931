package peer;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

import greet.DubboGreetServiceTriple;
import greet.GreetRequest;
import greet.GreetResponse;
import org.apache.dubbo.config.ProtocolConfig;
import org.apache.dubbo.config.ServiceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;

/**
 * A Dubbo Java provider of greet.GreetService over Triple, like the seed's go-server: it
 * echoes the name and fails at `--failure-rate` with "random error".
 *
 * Flags: --port (Triple), --metrics-port (QoS, serves /metrics), --app, --failure-rate,
 * --delay (ms per call), --register-mode (interface|instance|all; Dubbo's default all),
 * --registry (zookeeper|none). Env: ZK_ADDRESS.
 */
public final class Provider {
    private Provider() {}

    /** Echoes the name; fails with "random error" at the configured rate. */
    static final class GreetImpl extends DubboGreetServiceTriple.GreetServiceImplBase {
        private final double failureRate;
        private final int delayMs;

        GreetImpl(double failureRate, int delayMs) {
            this.failureRate = failureRate;
            this.delayMs = delayMs;
        }

        @Override
        public GreetResponse greet(GreetRequest request) {
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (ThreadLocalRandom.current().nextDouble() < failureRate) {
                throw new IllegalStateException("random error");
            }
            return GreetResponse.newBuilder().setGreeting(request.getName()).build();
        }
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> flags = Common.flags(args, Set.of(
                "port", "metrics-port", "app", "failure-rate", "delay", "register-mode", "registry"));
        int port = Common.intFlag(flags, "port", 20000);
        int metricsPort = Common.intFlag(flags, "metrics-port", 22222);
        int delayMs = Common.intFlag(flags, "delay", 0);
        double failureRate = Double.parseDouble(flags.getOrDefault("failure-rate", "0"));
        String registerMode = Common.oneOf(flags, "register-mode", null, Set.of("interface", "instance", "all"));
        String registry = Common.oneOf(flags, "registry", "zookeeper", Set.of("zookeeper", "none"));
        Common.pinLoopback();

        ProtocolConfig protocol = new ProtocolConfig("tri", port);
        protocol.setHost("127.0.0.1");
        ServiceConfig<greet.GreetService> service = new ServiceConfig<>();
        service.setInterface(greet.GreetService.class);
        service.setRef(new GreetImpl(failureRate, delayMs));

        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(Common.application(flags.getOrDefault("app", "dubbo-java-provider"), metricsPort,
                        registerMode))
                .registry(Common.registry(registry.equals("none")))
                .metrics(Common.metrics())
                .protocol(protocol)
                .service(service)
                .start();
        Common.log("provider greet.GreetService on tri://127.0.0.1:" + port
                + " (metrics http://127.0.0.1:" + metricsPort + "/metrics, register-mode "
                + (registerMode == null ? "default" : registerMode) + ")");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            bootstrap.stop();
            stopped.countDown();
        }));
        stopped.await();
    }
}
