// Command provider is dubbo-go's side of the interop tests, written like the seed's
// go-server: greet.GreetService over Triple, ZooKeeper registry, metrics on. It echoes the
// name and fails with "random error" at the rate given by -fail-rate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"syscall"
	"time"

	"dubbo.apache.org/dubbo-go/v3"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"dubbo-metrics-deno/peers/greet"
	"dubbo-metrics-deno/peers/peer"
)

// GreetTripleServer implements greet.GreetService (the seed's name for it).
type GreetTripleServer struct {
	failRate      float64
	delay         time.Duration
	honorDeadline bool
}

// Greet echoes the name, or fails with "random error" at the configured rate.
func (s *GreetTripleServer) Greet(ctx context.Context, req *greet.GreetRequest) (*greet.GreetResponse, error) {
	if s.failRate > 0 && rand.Float64() < s.failRate {
		return nil, errors.New("random error")
	}
	if s.delay > 0 && s.honorDeadline {
		// A handler that stops at the caller's deadline, as a real service would.
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return nil, triple_protocol.NewError(triple_protocol.CodeDeadlineExceeded, ctx.Err())
		}
	} else if s.delay > 0 {
		time.Sleep(s.delay) // the seed's "mock business delay", deaf to the caller's deadline
	}
	return &greet.GreetResponse{Greeting: req.Name}, nil
}

func main() {
	port := flag.Int("port", 20000, "Triple port")
	host := flag.String("host", "", "IP to listen on and register (default: dubbo-go picks the host's IP)")
	metricsPort := flag.Int("metrics-port", 9099, "Prometheus pull port (path /prometheus)")
	register := flag.String("register", "default", "registry type: "+peer.RegisterModes)
	app := flag.String("app", "dubbo.io", "application name")
	failRate := flag.Float64("fail-rate", 0, "fraction of calls that fail with \"random error\"")
	delay := flag.Duration("delay", 0, "business delay per successful call")
	honorDeadline := flag.Bool("honor-deadline", false, "end the delay at the caller's deadline (the seed sleeps through it)")
	flag.Parse()

	opts := []dubbo.InstanceOption{
		dubbo.WithName(*app),
		peer.MetricsOption(*metricsPort, true),
	}
	reg, withRegistry, err := peer.RegistryOption(*register)
	if err != nil {
		fail(err)
	}
	if withRegistry {
		opts = append(opts, reg)
	}
	ins, err := dubbo.NewInstance(opts...)
	if err != nil {
		fail(err)
	}
	protoOpts := []protocol.ServerOption{protocol.WithPort(*port), protocol.WithTriple()}
	if *host != "" {
		protoOpts = append(protoOpts, protocol.WithIp(*host))
	}
	srvOpts := []server.ServerOption{server.WithServerProtocol(protoOpts...)}
	if !withRegistry {
		srvOpts = append(srvOpts, server.WithServerNotRegister())
	}
	srv, err := ins.NewServer(srvOpts...)
	if err != nil {
		fail(err)
	}
	handler := &GreetTripleServer{failRate: *failRate, delay: *delay, honorDeadline: *honorDeadline}
	if err := greet.RegisterGreetServiceHandler(srv, handler); err != nil {
		fail(err)
	}
	go func() {
		if err := srv.Serve(); err != nil {
			fail(err)
		}
	}()
	fmt.Printf("PEER START provider port=%d metrics=%d register=%s\n", *port, *metricsPort, *register)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	fmt.Println("PEER STOP")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "PEER FATAL", err)
	os.Exit(1)
}
