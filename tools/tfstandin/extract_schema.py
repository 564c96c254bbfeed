"""Extract a compact Terraform schema for the google resource types we use from the cdktf provider bindings.

Run once by hand (the output, ``schema/google.json``, is committed; the suite never downloads anything)::

    pip download --no-deps cdktf-cdktf-provider-google==16.12.1 -d /tmp/w
    python -m tools.tfstandin.extract_schema /tmp/w/cdktf_cdktf_provider_google-16.12.1-py3-none-any.whl

The wheel (generated from google provider 6.50.0) ships the jsii assembly (``_jsii/*.jsii.tgz``) whose
``lib/<type>/index.js`` holds, per resource and per nested struct, ``synthesizeHclAttributes`` /
``<struct>ToHclTerraform`` tables (snake_case name, block or attribute, list/set/single, value type), getters
for computed-only attributes, and whose ``.jsii`` file says which configurable properties are optional.
Missing from the bindings: which optional arguments are also computed (treated as optional+computed, the
permissive reading) and sensitivity (not needed to validate or plan). Arguments added after 6.50.0 come from
``overlay.json`` at load time, never from here.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUTPUT = HERE / "schema" / "google.json"

_ATTR_HEAD = re.compile(r"^\s+(\w+): \{$")
_ATTR_FIELD = re.compile(r'^\s+(value|isBlock|type|storageClassType): "?(.*?)"?,$')
_GETTER = re.compile(r"get (\w+)\(\) \{\s*return this\.get(\w+)Attribute\('(\w+)'\);")
_COMPLEX = re.compile(r"this\._(\w+) = new (\w+)\(this, \"(\w+)\"(?:, (true|false))?\);")
_GETTER_KIND = {
    "String": "string",
    "Number": "number",
    "Boolean": "bool",
    "List": ["list", "string"],
    "NumberList": ["list", "number"],
    "StringMap": ["map", "string"],
}
_SIMPLE = {"string": "string", "number": "number", "boolean": "bool"}
_COLLECTION = {"stringList": "string", "numberList": "number", "stringMap": "string"}


class Module:
    """One binding module: its JavaScript source and the jsii struct definitions of its submodule."""

    def __init__(self, js: str, structs: dict[str, dict[str, bool]]) -> None:
        self.js = js
        self.structs = structs  # struct name -> {camelName: optional}

    def section(self, start: str) -> str:
        begin = self.js.index(start)
        end = self.js.find("\nclass ", begin + 1)
        nxt = self.js.find("\nfunction ", begin + 1)
        stops = [s for s in (end, nxt) if s != -1]
        return self.js[begin : min(stops) if stops else len(self.js)]

    def table(self, start: str) -> list[tuple[str, str, bool, str, str]]:
        body = self.section(start)
        anchor = body.find("synthesizeHclAttributes() {")
        body = body[max(anchor, 0) :]
        body = body[body.index("const attrs = {") :]
        body = body[: body.index("};")]
        lines = body.splitlines()
        rows: list[tuple[str, str, bool, str, str]] = []
        for i, line in enumerate(lines):
            head = _ATTR_HEAD.match(line)
            if head is None:
                continue
            fields: dict[str, str] = {}
            for m in map(_ATTR_FIELD.match, lines[i + 1 : i + 5]):
                if m:
                    fields[m[1]] = m[2]
            is_block = fields["isBlock"] == "true"
            rows.append((head[1], fields["value"], is_block, fields["type"], fields["storageClassType"]))
        return rows

    def class_body(self, name: str) -> str:
        return self.section(f"class {name} ")


def _camel(expr: str) -> str:
    found = re.search(r"(?:struct\.|this\._)(\w+)", expr)
    if found is None:
        raise ValueError(f"cannot find the property in {expr!r}")
    return found.group(1)


def _struct_fn(expr: str) -> str | None:
    found = re.search(r"(\w+)ToHclTerraform", expr)
    return None if found is None or found.group(1) in {"string", "number", "boolean"} else found.group(1)


def _block(mod: Module, table_start: str, struct: str, class_name: str) -> dict[str, Any]:
    optional = mod.structs.get(struct, {})
    attributes: dict[str, Any] = {}
    blocks: dict[str, Any] = {}
    for snake, expr, is_block, kind, storage in mod.table(table_start):
        required = not optional.get(_camel(expr), True)
        nested = _struct_fn(expr)
        if is_block and nested is not None:
            child = nested[0].upper() + nested[1:]
            inner = _block(mod, f"function {nested}ToHclTerraform(", child, f"{child}OutputReference")
            single = "listMapperHcl" not in expr
            nesting = "single" if kind == "struct" else kind
            blocks[snake] = {"nesting": nesting, "min": 1 if required else 0, "max": 1 if single else 0, "block": inner}
            continue
        mode = "required" if required else "optional"
        attributes[snake] = {"type": _value_type(mod, kind, storage, nested), "mode": mode}
    for snake, ctype in _computed(mod, class_name).items():
        if snake not in attributes and snake not in blocks:
            attributes[snake] = {"type": ctype, "mode": "computed"}
    return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}


def _value_type(mod: Module, kind: str, storage: str, nested: str | None) -> Any:
    if storage in _SIMPLE:
        return _SIMPLE[storage]
    if storage in _COLLECTION:
        return [{"list": "list", "set": "set", "map": "map"}[kind], _COLLECTION[storage]]
    if storage in {"numberMap", "booleanMap"}:
        return ["map", "number" if storage == "numberMap" else "bool"]
    if nested is None:
        raise ValueError(f"unknown storage class {storage}")
    child = nested[0].upper() + nested[1:]
    inner = _block(mod, f"function {nested}ToHclTerraform(", child, f"{child}OutputReference")
    obj = ["object", {k: v["type"] for k, v in inner["attributes"].items()}]
    return obj if kind == "struct" else [kind, obj]


def _computed(mod: Module, class_name: str) -> dict[str, Any]:
    """Every attribute a binding class can read (its getters), with its cty type."""
    try:
        body = mod.class_body(class_name)
    except ValueError:
        return {}
    found: dict[str, Any] = {snake: _GETTER_KIND[kind] for _, kind, snake in _GETTER.findall(body)}
    for _, cls, snake, is_set in _COMPLEX.findall(body):
        if cls.endswith("List"):
            element = _object(mod, cls[: -len("List")] + "OutputReference")
            found[snake] = ["set" if is_set == "true" else "list", element]
        elif cls.endswith("Map"):
            found[snake] = ["map", _object(mod, cls[: -len("Map")] + "OutputReference")]
        else:
            found[snake] = ["list", _object(mod, cls)]
    return found


def _object(mod: Module, class_name: str) -> Any:
    return ["object", dict(sorted(_computed(mod, class_name).items()))]


def _optional_flags(assembly: dict[str, Any]) -> dict[str, dict[str, dict[str, bool]]]:
    """submodule -> struct name -> {property: optional}."""
    out: dict[str, dict[str, dict[str, bool]]] = {}
    for fqn, spec in assembly["types"].items():
        if spec.get("kind") != "interface" or not spec.get("datatype"):
            continue
        parts = fqn.split(".")
        props = {p["name"]: bool(p.get("optional")) for p in spec.get("properties", [])}
        out.setdefault(parts[1], {})[parts[-1]] = props
    return out


def used_types(terraform_dir: Path) -> tuple[set[str], set[str]]:
    text = "\n".join(p.read_text(encoding="utf-8") for p in terraform_dir.rglob("*.tf") if ".terraform" not in p.parts)
    resources = set(re.findall(r'^\s*resource\s+"(google_\w+)"', text, re.M))
    data = set(re.findall(r'^\s*data\s+"(google_\w+)"', text, re.M))
    return resources, data


def extract(wheel: Path, resources: set[str], data_sources: set[str]) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".jsii.tgz"))
        blob = zf.read(name)
    texts: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tgz:  # one sequential pass: no seeking back
        for member in tgz:
            if member.isfile() and (member.name == "package/.jsii" or member.name.endswith("/index.js")):
                texts[member.name] = tgz.extractfile(member).read().decode()  # type: ignore[union-attr]
    assembly = json.loads(texts.pop("package/.jsii"))
    flags = _optional_flags(assembly)
    sources: dict[str, tuple[str, str, str]] = {}
    for path, js in texts.items():
        if not path.startswith("package/lib/"):
            continue
        if ".tfResourceType = " not in js:
            continue
        for line in js.splitlines():
            if ".tfResourceType = " not in line:
                continue
            cls, tf_type = line.split(".tfResourceType = ")[0].strip(), line.split('"')[1]
            kind = "data" if cls.startswith("DataGoogle") else "resource"
            if tf_type in (data_sources if kind == "data" else resources):
                sources[f"{kind}:{tf_type}"] = (path, cls, js)
        if path == "package/lib/provider/index.js":
            sources["provider"] = (path, "GoogleProvider", js)
    generated_from = re.search(r"hashicorp/google/(\d+\.\d+\.\d+)/docs", texts["package/lib/provider/index.js"])
    provider_version = generated_from.group(1) if generated_from else "unknown"
    schema: dict[str, Any] = {"source": f"{wheel.name} (google provider {provider_version})", "resources": {}}
    schema["data_sources"] = {}
    for key, (_path, cls, js) in sorted(sources.items()):
        submodule = _submodule_of(assembly, cls)
        mod = Module(js, flags.get(submodule, {}))
        block = _block(mod, f"class {cls} ", f"{cls}Config", cls)
        if key == "provider":
            schema["provider"] = block
        else:
            kind, tf_type = key.split(":")
            schema["resources" if kind == "resource" else "data_sources"][tf_type] = block
    missing = {f"resource:{r}" for r in resources} | {f"data:{d}" for d in data_sources}
    missing -= set(sources)
    if missing:
        raise SystemExit(f"not in the bindings: {sorted(missing)}")
    return schema


def _submodule_of(assembly: dict[str, Any], cls: str) -> str:
    for fqn in assembly["types"]:
        parts = fqn.split(".")
        if len(parts) == 3 and parts[2] == cls:
            return str(parts[1])
    raise SystemExit(f"class {cls} not in the assembly")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("wheel", type=Path)
    parser.add_argument("--terraform", type=Path, default=REPO / "terraform")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    resources, data_sources = used_types(args.terraform)
    schema = extract(args.wheel, resources, data_sources)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(schema['resources'])} resources, {len(schema['data_sources'])} data sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
