package peer;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import greet.GreetRequest;
import org.apache.dubbo.config.ReferenceConfig;
import org.apache.dubbo.config.bootstrap.DubboBootstrap;
import org.apache.dubbo.registry.client.migration.MigrationInvoker;
import org.apache.dubbo.rpc.Invoker;
import org.apache.dubbo.rpc.RpcException;
import org.apache.dubbo.rpc.StatusRpcException;

/**
 * A Dubbo Java consumer of greet.GreetService, like the seed's go-client: N calls, one line
 * per result (`Greet response: ...` / `Greet failed: <code>: <message>`), then
 * `Layout: <application-level|interface-level|direct>` (which registry layout its calls
 * went through) and `Summary: calls=N succeeded=N failed=N`.
 *
 * At Dubbo's defaults unless a flag says otherwise: no protocol (the provider's URL decides),
 * timeout 1000 ms, retries 2 (failover), check true (start fails without a provider),
 * migration APPLICATION_FIRST.
 *
 * Flags: --count, --interval (ms), --timeout (ms), --retries, --check (true|false),
 * --protocol (e.g. tri), --url (direct, e.g. tri://127.0.0.1:20000), --migration
 * (FORCE_INTERFACE|APPLICATION_FIRST|FORCE_APPLICATION), --metrics-port (QoS, serves
 * /metrics), --app, --name, --hold (true: keep running after the calls until stopped, for
 * scraping). Env: ZK_ADDRESS.
 */
public final class Consumer {
    private Consumer() {}

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> flags = Common.flags(args, Set.of("count", "interval", "timeout", "retries",
                "check", "protocol", "url", "migration", "metrics-port", "app", "name", "hold"));
        int count = Common.intFlag(flags, "count", 10);
        int intervalMs = Common.intFlag(flags, "interval", 0);
        int metricsPort = Common.intFlag(flags, "metrics-port", 22223);
        String migration = Common.oneOf(flags, "migration", null,
                Set.of("FORCE_INTERFACE", "APPLICATION_FIRST", "FORCE_APPLICATION"));
        String url = flags.get("url");
        String name = flags.getOrDefault("name", "hello world");
        Common.pinLoopback();
        if (migration != null) System.setProperty("dubbo.application.migration.step", migration);

        ReferenceConfig<greet.GreetService> reference = new ReferenceConfig<>();
        reference.setInterface(greet.GreetService.class);
        // Only what a flag asks for; everything else stays at Dubbo's default.
        if (flags.containsKey("protocol")) reference.setProtocol(flags.get("protocol"));
        if (flags.containsKey("timeout")) reference.setTimeout(Common.intFlag(flags, "timeout", 0));
        if (flags.containsKey("retries")) reference.setRetries(Common.intFlag(flags, "retries", 0));
        if (flags.containsKey("check")) reference.setCheck(Boolean.parseBoolean(flags.get("check")));
        if (url != null) reference.setUrl(url);

        DubboBootstrap bootstrap = DubboBootstrap.getInstance()
                .application(Common.application(flags.getOrDefault("app", "dubbo-java-consumer"), metricsPort, null))
                .registry(Common.registry(url != null))
                .metrics(Common.metrics())
                .reference(reference)
                .start();
        Common.log("consumer of greet.GreetService via " + (url != null ? url : "zookeeper")
                + " (metrics http://127.0.0.1:" + metricsPort + "/metrics, migration "
                + (migration == null ? "default" : migration) + ")");

        greet.GreetService client = reference.get();
        int succeeded = 0;
        for (int i = 0; i < count; i++) {
            try {
                String greeting = client.greet(GreetRequest.newBuilder().setName(name).build()).getGreeting();
                succeeded++;
                Common.log("Greet response: " + greeting);
            } catch (RuntimeException e) {
                Common.log("Greet failed: " + code(e) + ": " + message(e));
            }
            if (intervalMs > 0 && i + 1 < count) Thread.sleep(intervalMs);
        }
        Common.log("Layout: " + (url != null ? "direct" : layout(reference.getInvoker())));
        Common.log("Summary: calls=" + count + " succeeded=" + succeeded + " failed=" + (count - succeeded));

        if ("true".equals(flags.get("hold"))) {
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
            stopped.await();
        }
        bootstrap.stop();
        System.exit(0);
    }

    /**
     * Which ZooKeeper layout the reference's calls go through: its migration invoker's current
     * invoker is the service-discovery one (application-level) or the interface one.
     */
    static String layout(Invoker<?> invoker) {
        MigrationInvoker<?> migration = find(invoker, 0);
        if (migration == null) return "unknown (no migration invoker under " + invoker + ")";
        Object current = migration.getCurrentAvailableInvoker();
        if (current == null) return "none";
        if (current == migration.getServiceDiscoveryInvoker()) return "application-level";
        if (current == migration.getInvoker()) return "interface-level";
        return "unknown (" + current + ")";
    }

    /** The MigrationInvoker in `invoker`'s chain of wrappers (their Invoker fields). */
    static MigrationInvoker<?> find(Object invoker, int depth) {
        if (invoker instanceof MigrationInvoker) return (MigrationInvoker<?>) invoker;
        if (invoker == null || depth > 6) return null;
        for (Class<?> type = invoker.getClass(); type != null; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (!Invoker.class.isAssignableFrom(field.getType())) continue;
                try {
                    field.setAccessible(true);
                    MigrationInvoker<?> found = find(field.get(invoker), depth + 1);
                    if (found != null) return found;
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // not readable: try the next field
                }
            }
        }
        return null;
    }

    /** The gRPC status code in lower snake case (`unknown`, `deadline_exceeded`, ...). */
    static String code(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof StatusRpcException) {
                return ((StatusRpcException) t).getStatus().code.name().toLowerCase();
            }
            if (t instanceof RpcException && ((RpcException) t).isTimeout()) return "deadline_exceeded";
        }
        return "unknown";
    }

    /** The status description, else the innermost message, on one line. */
    static String message(Throwable error) {
        String found = null;
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof StatusRpcException) {
                found = ((StatusRpcException) t).getStatus().description;
                break;
            }
            if (t.getMessage() != null) found = t.getMessage();
        }
        return found == null ? error.toString() : found.replace('\n', ' ');
    }
}
