# One image for the provider, the consumer and the cleaner (compose.yaml and k8s/):
#   docker build -t dubbo-metrics-deno:local .
#   docker run --rm dubbo-metrics-deno:local task server --help
# The image's entrypoint runs `deno <args>`, so the command is a deno.json task with the
# narrow permissions defined there.
FROM denoland/deno:2.9.6

WORKDIR /app
COPY deno.json deno.lock ./
COPY lib/ lib/
COPY server.ts client.ts cleaner.ts ./

# Fetch the pinned npm dependencies (deno.lock) at build time: start-up needs no registry.
USER deno
RUN deno cache --frozen server.ts client.ts cleaner.ts

# Triple, provider metrics, consumer metrics, cleaner metrics.
EXPOSE 20000 9099 9097 9105
CMD ["task", "server"]
