/**
 * `greet.GreetService` described for protobuf-es v1, which dubbo-js 3.0.0-alpha needs
 * (our own code uses protobuf-es v2 from `proto/`; the two describe the same wire).
 *
 * @module
 */
import { MethodKind, proto3 } from "@bufbuild/protobuf";

/** `greet.GreetRequest { string name = 1; }` */
export const GreetRequest = proto3.makeMessageType("greet.GreetRequest", [
  { no: 1, name: "name", kind: "scalar", T: 9 /* string */ },
]);

/** `greet.GreetResponse { string greeting = 1; }` */
export const GreetResponse = proto3.makeMessageType("greet.GreetResponse", [
  { no: 1, name: "greeting", kind: "scalar", T: 9 /* string */ },
]);

/** The service, as protoc-gen-connect-es v1 would generate it. */
export const GreetService = {
  typeName: "greet.GreetService",
  methods: {
    greet: { name: "Greet", I: GreetRequest, O: GreetResponse, kind: MethodKind.Unary },
  },
} as const;
