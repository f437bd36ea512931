// Package peer holds what the test peers' provider and consumer share: the registry type
// chosen by flag and the metrics options of the seed's go-server/go-client (pull only).
package peer

import (
	"fmt"
	"os"

	"dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/metrics"
	"dubbo.apache.org/dubbo-go/v3/registry"
)

// RegisterModes are the values of the -register flag.
const RegisterModes = "default|interface|service|all|none"

// RegistryOption is dubbo.WithRegistry for ZooKeeper at $ZK_ADDRESS in the layout named by
// mode: "default" leaves dubbo-go's default registry type (application-level only in 3.3),
// "interface" = WithRegisterInterface, "service" = WithRegisterService, "all" =
// WithRegisterServiceAndInterface. "none" returns ok=false: no registry at all (direct mode).
func RegistryOption(mode string) (opt dubbo.InstanceOption, ok bool, err error) {
	opts := []registry.Option{registry.WithZookeeper(), registry.WithAddress(zkAddress())}
	switch mode {
	case "default":
	case "interface":
		opts = append(opts, registry.WithRegisterInterface())
	case "service":
		opts = append(opts, registry.WithRegisterService())
	case "all":
		opts = append(opts, registry.WithRegisterServiceAndInterface())
	case "none":
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("-register=%q: want one of %s", mode, RegisterModes)
	}
	return dubbo.WithRegistry(opts...), true, nil
}

func zkAddress() string {
	if v := os.Getenv("ZK_ADDRESS"); v != "" {
		return v
	}
	return "127.0.0.1:2181"
}

// MetricsOption turns dubbo-go's metrics on as the seed does (registry, metadata and
// config-center metrics; Prometheus exporter on port at /prometheus), without the push.
func MetricsOption(port int, aggregation bool) dubbo.InstanceOption {
	opts := []metrics.Option{
		metrics.WithEnabled(),
		metrics.WithPrometheus(),
		metrics.WithPrometheusExporterEnabled(),
		metrics.WithPort(port),
		metrics.WithPath("/prometheus"),
		metrics.WithMetadataEnabled(),
		metrics.WithRegistryEnabled(),
		metrics.WithConfigCenterEnabled(),
	}
	if aggregation {
		opts = append(opts,
			metrics.WithAggregationEnabled(),
			metrics.WithAggregationTimeWindowSeconds(30),
			metrics.WithAggregationBucketNum(10),
		)
	}
	return dubbo.WithMetrics(opts...)
}
