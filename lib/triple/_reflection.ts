/**
 * gRPC server reflection, v1 and v1alpha (the two are identical on the wire, so one
 * implementation serves both paths): `list_services`, `file_by_filename` and
 * `file_containing_symbol` answered from the generated descriptors, so `grpcurl list`
 * and `grpcurl describe` work against the provider.
 *
 * @module
 */
import {
  create,
  createRegistry,
  type DescFile,
  type DescService,
  toBinary,
} from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
} from "../gen/grpc/reflection/v1/reflection_pb.ts";
import type { StreamingMethod } from "./_method.ts";
import { streamingMethod } from "./_protobuf.ts";

/** Full names of the two reflection services. */
export const REFLECTION_SERVICES = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
] as const;

/** Every file of `files` and their dependencies, by proto file name. */
function collectFiles(files: readonly DescFile[]): Map<string, DescFile> {
  const byName = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (byName.has(file.proto.name)) return;
    byName.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  files.forEach(visit);
  return byName;
}

/** `file` and its transitive dependencies, serialized, the file first. */
function withDependencies(file: DescFile): Uint8Array[] {
  return [...collectFiles([file]).values()].map((f) =>
    toBinary(FileDescriptorProtoSchema, f.proto)
  );
}

/**
 * The reflection methods (v1 and v1alpha) listing those of `services` (full names)
 * whose descriptors are in `files` (generated `file_*` descriptors, with their
 * dependencies).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.ts";
 * const methods = reflectionMethods(["grpc.health.v1.Health"], [file_grpc_health_v1_health]);
 * assert.deepEqual(methods.map((m) => m.service), [...REFLECTION_SERVICES]);
 * ```
 */
export function reflectionMethods(
  services: readonly string[],
  files: readonly DescFile[],
): StreamingMethod[] {
  const byName = collectFiles(files);
  const registry = createRegistry(...byName.values());
  // Only services whose descriptors we can serve are listed (grpcurl would fail on others).
  const listed = [...new Set(services)].filter((name) => registry.getService(name)).sort();
  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const found = registry.get(symbol);
    if (found) return found.file;
    const dot = symbol.lastIndexOf(".");
    if (dot < 0) return undefined;
    const service = registry.get(symbol.slice(0, dot)) as DescService | undefined;
    return service?.kind === "service" &&
        service.methods.some((m) => m.name === symbol.slice(dot + 1))
      ? service.file
      : undefined;
  };
  const answer = (request: ReturnType<typeof create<typeof ServerReflectionRequestSchema>>) => {
    const notFound = (what: string) => ({
      case: "errorResponse" as const,
      value: { errorCode: 5, errorMessage: `${what} not found` },
    });
    const files = (file: DescFile | undefined, what: string) =>
      file
        ? {
          case: "fileDescriptorResponse" as const,
          value: { fileDescriptorProto: withDependencies(file) },
        }
        : notFound(what);
    const req = request.messageRequest;
    switch (req.case) {
      case "listServices":
        return {
          case: "listServicesResponse" as const,
          value: { service: listed.map((name) => ({ name })) },
        };
      case "fileByFilename":
        return files(byName.get(req.value), `file ${req.value}`);
      case "fileContainingSymbol":
        return files(fileOfSymbol(req.value), `symbol ${req.value}`);
      default:
        return {
          case: "errorResponse" as const,
          value: { errorCode: 12, errorMessage: "not implemented" },
        };
    }
  };
  return REFLECTION_SERVICES.map((service) =>
    streamingMethod({
      service,
      method: "ServerReflectionInfo",
      input: ServerReflectionRequestSchema,
      output: ServerReflectionResponseSchema,
      open(call) {
        return {
          message(request) {
            call.send(create(ServerReflectionResponseSchema, {
              validHost: request.host,
              originalRequest: request,
              messageResponse: answer(request),
            }));
          },
          end() {
            call.end();
          },
          closed() {},
        };
      },
    })
  );
}
