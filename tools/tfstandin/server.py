"""A schema-only stand-in for the google provider: serves tfplugin5 over gRPC from the extracted schema.

Accepts every value (Terraform core itself checks names, required arguments, types and block counts against the
schema); at plan it keeps configured values, leaves write-only attributes null and makes every unset
optional/computed attribute unknown. Launched by Terraform through the wrapper that ``mirror.py`` writes.
"""

from __future__ import annotations

import base64
import datetime
import importlib
import json
import sys
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import msgpack  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic_settings import BaseSettings, SettingsConfigDict

HERE = Path(__file__).resolve().parent
UNKNOWN = msgpack.ExtType(0, b"\x00")
NESTING = {"single": 1, "list": 2, "set": 3, "map": 4}


def load_schema(schema_path: Path, overlay_path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_path.read_text(encoding="utf-8"))
    overlay = json.loads(overlay_path.read_text(encoding="utf-8"))
    for tf_type, extra in overlay["resources"].items():
        for name, attr in extra["attributes"].items():
            schema["resources"][tf_type]["attributes"][name] = {"mode": attr["mode"], "type": attr["type"]}
    return schema


def block_message(pb: Any, block: dict[str, Any]) -> Any:
    out = pb.Schema.Block()
    for name, attr in sorted(block["attributes"].items()):
        mode, write_only = attr["mode"], name.endswith("_wo")
        out.attributes.add(
            name=name,
            type=json.dumps(attr["type"]).encode(),
            required=mode == "required",
            optional=mode == "optional",
            computed=mode == "computed" or (mode == "optional" and not write_only),
            write_only=write_only,
        )
    for name, nested in sorted(block["blocks"].items()):
        single = nested["nesting"] == "single"
        out.block_types.add(
            type_name=name,
            block=block_message(pb, nested["block"]),
            nesting=NESTING[nested["nesting"]],
            min_items=0 if single else nested["min"],
            max_items=0 if single else nested["max"],
        )
    return out


def planned(value: Any, block: dict[str, Any]) -> Any:
    """A create plan: configured values kept, write-only nulled, unset optional/computed attributes unknown."""
    if not isinstance(value, dict):
        return value
    for name, attr in block["attributes"].items():
        if name.endswith("_wo"):
            value[name] = None
        elif value.get(name) is None and attr["mode"] != "required":
            value[name] = UNKNOWN
    for name, nested in block["blocks"].items():
        child = value.get(name)
        elements = [child] if isinstance(child, dict) else child if isinstance(child, list) else []
        for element in elements:
            planned(element, nested["block"])
    return value


def make_servicer(pb: Any, pbg: Any, schema: dict[str, Any]) -> Any:
    class Provider(pbg.ProviderServicer):  # type: ignore[misc]
        def GetSchema(self, request: Any, context: Any) -> Any:
            response = pb.GetProviderSchema.Response(provider=pb.Schema(block=block_message(pb, schema["provider"])))
            for tf_type, block in schema["resources"].items():
                response.resource_schemas[tf_type].CopyFrom(pb.Schema(block=block_message(pb, block)))
            for tf_type, block in schema["data_sources"].items():
                response.data_source_schemas[tf_type].CopyFrom(pb.Schema(block=block_message(pb, block)))
            return response

        def PrepareProviderConfig(self, request: Any, context: Any) -> Any:
            return pb.PrepareProviderConfig.Response(prepared_config=request.config)

        def ValidateResourceTypeConfig(self, request: Any, context: Any) -> Any:
            return pb.ValidateResourceTypeConfig.Response()

        def ValidateDataSourceConfig(self, request: Any, context: Any) -> Any:
            return pb.ValidateDataSourceConfig.Response()

        def Configure(self, request: Any, context: Any) -> Any:
            return pb.Configure.Response()

        def UpgradeResourceState(self, request: Any, context: Any) -> Any:
            return pb.UpgradeResourceState.Response()

        def Stop(self, request: Any, context: Any) -> Any:
            return pb.Stop.Response()

        def PlanResourceChange(self, request: Any, context: Any) -> Any:
            proposed = msgpack.unpackb(request.proposed_new_state.msgpack, raw=False, strict_map_key=False)
            prior = request.prior_state.msgpack
            has_prior = bool(prior) and msgpack.unpackb(prior, raw=False, strict_map_key=False) is not None
            state = (
                proposed if proposed is None or has_prior else planned(proposed, schema["resources"][request.type_name])
            )
            packed = msgpack.packb(state, use_bin_type=True)
            return pb.PlanResourceChange.Response(planned_state=pb.DynamicValue(msgpack=packed))

    return Provider()


def self_signed() -> tuple[bytes, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=24))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, True, True, False, False, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, cert


def serve(stubs: Path, schema: dict[str, Any], client_cert_pem: str) -> None:
    sys.path.insert(0, str(stubs))
    pb = importlib.import_module("tfplugin5_pb2")
    pbg = importlib.import_module("tfplugin5_pb2_grpc")
    key_pem, cert = self_signed()
    # go-plugin's client certificate is ECDSA P-521, which gRPC's BoringSSL does not offer in its certificate
    # request, so Terraform sends none: the client certificate is trusted but not required (see ADR 0033).
    credentials = grpc.ssl_server_credentials(
        [(key_pem, cert.public_bytes(serialization.Encoding.PEM))],
        root_certificates=client_cert_pem.encode(),
        require_client_auth=False,
    )
    limits = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=limits)
    pbg.add_ProviderServicer_to_server(make_servicer(pb, pbg, schema), server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode().rstrip("=")
    print(f"1|5|tcp|127.0.0.1:{port}|grpc|{der}", flush=True)  # go-plugin handshake line
    server.wait_for_termination()


class PluginEnvironment(BaseSettings):
    """What Terraform hands a plugin process: the client certificate of go-plugin's AutoMTLS."""

    model_config = SettingsConfigDict(extra="ignore")

    PLUGIN_CLIENT_CERT: str


def main() -> None:
    stubs = Path(sys.argv[1])
    schema = load_schema(HERE / "schema" / "google.json", HERE / "overlay.json")
    serve(stubs, schema, PluginEnvironment().PLUGIN_CLIENT_CERT)


if __name__ == "__main__":
    main()
