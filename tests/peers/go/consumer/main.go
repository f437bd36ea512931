// Command consumer is dubbo-go's calling side of the interop tests, written like the seed's
// go-client: it finds greet.GreetService through ZooKeeper (or a direct -url), makes -n calls
// and prints one line per result, then a summary:
//
//	RESULT <i> ok <greeting>
//	RESULT <i> err code=<triple code> message=<message>
//	SUMMARY ok=<n> err=<n> codes=<code>:<n>,...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/client"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"dubbo-metrics-deno/peers/greet"
	"dubbo-metrics-deno/peers/peer"
)

func main() {
	n := flag.Int("n", 10, "number of calls")
	timeout := flag.Duration("timeout", 3*time.Second, "per-call timeout")
	interval := flag.Duration("interval", 0, "pause between calls")
	warmup := flag.Duration("warmup", 0, "before counting, retry the first call until it reaches a provider (a reply or a Triple error) or this passes (the registry subscription is asynchronous)")
	url := flag.String("url", "", "direct provider URL (e.g. tri://127.0.0.1:20000), no registry lookup")
	metricsPort := flag.Int("metrics-port", 9097, "Prometheus pull port (path /prometheus)")
	register := flag.String("register", "default", "registry type: "+peer.RegisterModes)
	app := flag.String("app", "dubbo.io", "application name")
	name := flag.String("name", "hello world", "name to greet")
	retries := flag.Int("retries", -1, "failover retries (-1: dubbo-go's default)")
	linger := flag.Bool("linger", false, "after the summary, wait for SIGTERM (so metrics can be scraped)")
	flag.Parse()

	opts := []dubbo.InstanceOption{dubbo.WithName(*app), peer.MetricsOption(*metricsPort, false)}
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
	cliOpts := []client.ClientOption{client.WithClientRequestTimeout(*timeout)}
	if *retries >= 0 {
		cliOpts = append(cliOpts, client.WithClientRetries(*retries))
	}
	if *url != "" {
		cliOpts = append(cliOpts, client.WithClientURL(*url))
	}
	cli, err := ins.NewClient(cliOpts...)
	if err != nil {
		fail(err)
	}
	svc, err := greet.NewGreetService(cli)
	if err != nil {
		fail(err)
	}
	fmt.Println("PEER READY consumer")

	call := func() (*greet.GreetResponse, error) {
		// context.Background() as the seed does: a context deadline would override dubbo-go's
		// per-call timeout (triple_protocol applyDefaultTimeout).
		return svc.Greet(context.Background(), &greet.GreetRequest{Name: *name}, client.WithCallRequestTimeout(*timeout))
	}
	if *warmup > 0 {
		started := time.Now()
		deadline := started.Add(*warmup)
		for attempts := 1; ; attempts++ {
			_, err := call()
			// Done once a call reached a provider: a reply, or a Triple error it sent back.
			reached := err == nil
			if !reached {
				code, _ := describe(err)
				reached = code != "other"
			}
			if reached || time.Now().After(deadline) {
				// reached=false: no provider answered within -warmup (the test must fail).
				fmt.Printf("WARMUP done reached=%t ok=%t attempts=%d after=%s\n",
					reached, err == nil, attempts, time.Since(started).Round(time.Millisecond))
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	ok, failed := 0, 0
	codes := map[string]int{}
	for i := 0; i < *n; i++ {
		resp, err := call()
		if err != nil {
			failed++
			code, msg := describe(err)
			codes[code]++
			fmt.Printf("RESULT %d err code=%s message=%s\n", i, code, oneLine(msg))
		} else {
			ok++
			fmt.Printf("RESULT %d ok %s\n", i, oneLine(resp.Greeting))
		}
		if *interval > 0 {
			time.Sleep(*interval)
		}
	}
	fmt.Printf("SUMMARY ok=%d err=%d codes=%s\n", ok, failed, joinCodes(codes))
	if *linger {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		<-stop
	}
	os.Exit(0)
}

// describe returns the Triple code name and message of err (code "other" when dubbo-go did
// not surface a Triple error, e.g. "No provider available").
func describe(err error) (string, string) {
	var terr *triple_protocol.Error
	if errors.As(err, &terr) {
		return terr.Code().String(), terr.Message()
	}
	return "other", err.Error()
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "\r", " ")
}

func joinCodes(codes map[string]int) string {
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, codes[k]))
	}
	return strings.Join(parts, ",")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "PEER FATAL", err)
	os.Exit(1)
}
