#!/usr/bin/env python3
# Checks the Kubernetes manifests under examples/kubernetes/ without a cluster.
#
#   scripts/check-examples.py validate FILE.yaml...   every document of every FILE
#   scripts/check-examples.py commands FILE.yaml      each Job's command line(s)
#   scripts/check-examples.py self-test               the validator on known-bad input
#
# validate: checks each document against a hand-written subset of the
# Kubernetes OpenAPI schemas (SCHEMAS below: Job batch/v1, Secret v1,
# ConfigMap v1, PersistentVolumeClaim v1; only the fields the examples may
# use, every other key refused, so a typo such as "complections" is caught),
# then against rules the API server (or the kubelet) applies beyond the
# schema: completionMode-dependent fields, restartPolicy, mounts of declared
# volumes, $(VAR) references in env values to variables declared earlier in
# the same container, quantities. Plus one rule of smbcopy's: an auth file
# (-A) taken from a Secret volume must not be readable by group or others
# (defaultMode 0400, no fsGroup), or smbcopy refuses it.
# Prints one line per problem, "FILE: document N: path.to.field: what is
# wrong", and exits 1 when there is any; exits 0 silently otherwise.
#
# commands: prints, for each container of each Job in FILE, command + args
# as one JSON array per line ($(VAR) expanded where VAR has a literal value
# in the container's env, as Kubernetes would), so that a test can run
# exactly those commands.
#
# self-test: runs the validator on mutations of a valid Indexed Job that
# must each be refused (a typo'd key, completionMode "indexed", parallelism
# "4", a mount of an undeclared volume, ...) and on the valid Job, which must
# be accepted; exit status 1 unless all of that holds.
#
# Needs python3 and PyYAML (pip install pyyaml, or apt-get install
# python3-yaml). YAML is read as Kubernetes reads it (YAML 1.1: 0400 is
# octal, yes/no are booleans); duplicate keys are refused, as kubectl does.
import copy
import json
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check-examples.py: needs PyYAML (pip install pyyaml, or apt-get install python3-yaml)\n")
    sys.exit(2)

PROG = "check-examples.py"
INT32_MAX = 2**31 - 1

# --- value formats ----------------------------------------------------------

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
# resource.Quantity (k8s.io/apimachinery/pkg/api/resource):
#   <quantity> ::= <signedNumber><suffix>; <number> ::= digits | digits.digits | digits. | .digits
#   <suffix> ::= Ki|Mi|Gi|Ti|Pi|Ei | m|""|k|M|G|T|P|E | e<signedNumber> | E<signedNumber>
# (the sign left out: no resource amount here may be negative)
QUANTITY = re.compile(r"^\+?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$")
FIELD_PATH = re.compile(
    r"^(metadata\.(name|namespace|uid)|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs)"
    r"|metadata\.(labels|annotations)\['[-._a-zA-Z0-9/]+'\])$")
B64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def check_format(fmt, value):
    """None if value (already known to be a string, or a number for quantities) fits fmt, else why not."""
    if fmt == "dns1123-label":
        if len(value) > 63 or not DNS1123_LABEL.match(value):
            return "%r is not a DNS-1123 label (lower case letters, digits and '-', at most 63)" % value
    elif fmt == "dns1123-subdomain":
        if len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
            return "%r is not a DNS-1123 subdomain (lower case letters, digits, '-' and '.')" % value
    elif fmt == "job-name":  # a subdomain that also fits in the job-name label of its pods
        if len(value) > 63 or not DNS1123_SUBDOMAIN.match(value):
            return "%r is not a valid Job name (a DNS-1123 subdomain of at most 63 characters)" % value
    elif fmt == "env-name":
        if not ENV_NAME.match(value):
            return "%r is not a valid environment variable name" % value
    elif fmt == "config-key":
        if len(value) > 253 or not CONFIG_KEY.match(value):
            return "%r is not a valid key (letters, digits, '-', '_' and '.')" % value
    elif fmt == "absolute-path":
        if not value.startswith("/"):
            return "%r is not an absolute path" % value
    elif fmt == "relative-path":
        if value == "" or value.startswith("/") or ".." in value.split("/"):
            return "%r must be a relative path without '..'" % value
    elif fmt == "field-path":
        if not FIELD_PATH.match(value):
            return ("%r is not a field an env var may take (metadata.name, metadata.namespace, metadata.uid, "
                    "metadata.labels['KEY'], metadata.annotations['KEY'], spec.nodeName, "
                    "spec.serviceAccountName, status.hostIP(s), status.podIP(s))" % value)
    elif fmt == "quantity":
        if isinstance(value, (int, float)):
            if value < 0:
                return "%r is negative" % value
        elif not QUANTITY.match(value):
            return ("%r is not a quantity (e.g. 2, 500m, 1.5, 1Gi, 512Mi, 1e3: a number, then an optional "
                    "suffix Ki Mi Gi Ti Pi Ei, m k M G T P E, or an exponent)" % value)
    elif fmt == "base64":
        if len(value) % 4 or not B64.match(value):
            return "not base64"
    else:  # pragma: no cover
        raise ValueError("unknown format " + fmt)
    return None


# --- the schemas: a subset of Kubernetes' OpenAPI v3 -----------------------
# The vocabulary is JSON Schema's: type (object, array, string, integer,
# boolean), properties, required, additionalProperties (False: unknown keys
# refused; a schema: a map), items, minItems, enum, minimum, maximum, format.
# Two extensions, as in Kubernetes' own OpenAPI: "x-kubernetes-int-or-string"
# (a quantity may be written 2 or "2") and "x-one-of" (exactly one of these
# keys must be present: a volume source, an env source).

def obj(properties, required=()):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


def string(fmt=None, enum=None):
    s = {"type": "string"}
    if fmt:
        s["format"] = fmt
    if enum:
        s["enum"] = list(enum)
    return s


def integer(minimum=0, maximum=INT32_MAX):
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def array(items, min_items=0):
    return {"type": "array", "items": items, "minItems": min_items}


def string_map(key_format=None):
    return {"type": "object", "additionalProperties": string(), "x-key-format": key_format}


BOOLEAN = {"type": "boolean"}
QUANTITY_SCHEMA = {"x-kubernetes-int-or-string": True, "format": "quantity"}

OBJECT_META = obj({
    "name": string("dns1123-subdomain"),
    "namespace": string("dns1123-label"),
    "labels": string_map(),
    "annotations": string_map(),
}, required=["name"])

RESOURCE_LIST = obj({"cpu": QUANTITY_SCHEMA, "memory": QUANTITY_SCHEMA, "ephemeral-storage": QUANTITY_SCHEMA})

KEY_REF = obj({"name": string("dns1123-subdomain"), "key": string("config-key"), "optional": BOOLEAN},
              required=["name", "key"])

ENV_VAR = dict(obj({
    "name": string("env-name"),
    "value": string(),
    "valueFrom": dict(obj({
        "fieldRef": obj({"fieldPath": string("field-path"), "apiVersion": string(enum=["v1"])},
                        required=["fieldPath"]),
        "secretKeyRef": KEY_REF,
        "configMapKeyRef": KEY_REF,
    }), **{"x-one-of": ["fieldRef", "secretKeyRef", "configMapKeyRef"]}),
}, required=["name"]), **{"x-one-of": ["value", "valueFrom"]})

VOLUME_MOUNT = obj({
    "name": string("dns1123-label"),
    "mountPath": string("absolute-path"),
    "readOnly": BOOLEAN,
    "subPath": string("relative-path"),
}, required=["name", "mountPath"])

CONTAINER_SECURITY = obj({
    "runAsUser": integer(0, 2**63 - 1), "runAsGroup": integer(0, 2**63 - 1), "runAsNonRoot": BOOLEAN,
    "readOnlyRootFilesystem": BOOLEAN, "allowPrivilegeEscalation": BOOLEAN,
})

CONTAINER = obj({
    "name": string("dns1123-label"),
    "image": string(),
    "imagePullPolicy": string(enum=["Always", "IfNotPresent", "Never"]),
    "command": array(string()),
    "args": array(string()),
    "workingDir": string("absolute-path"),
    "env": array(ENV_VAR),
    "volumeMounts": array(VOLUME_MOUNT),
    "resources": obj({"requests": RESOURCE_LIST, "limits": RESOURCE_LIST}),
    "securityContext": CONTAINER_SECURITY,
}, required=["name", "image"])

KEY_TO_PATH = obj({"key": string("config-key"), "path": string("relative-path"), "mode": integer(0, 0o777)},
                  required=["key", "path"])

VOLUME = dict(obj({
    "name": string("dns1123-label"),
    "secret": obj({"secretName": string("dns1123-subdomain"), "items": array(KEY_TO_PATH),
                   "defaultMode": integer(0, 0o777), "optional": BOOLEAN}, required=["secretName"]),
    "configMap": obj({"name": string("dns1123-subdomain"), "items": array(KEY_TO_PATH),
                      "defaultMode": integer(0, 0o777), "optional": BOOLEAN}, required=["name"]),
    "persistentVolumeClaim": obj({"claimName": string("dns1123-subdomain"), "readOnly": BOOLEAN},
                                 required=["claimName"]),
    "emptyDir": obj({"medium": string(enum=["", "Memory"]), "sizeLimit": QUANTITY_SCHEMA}),
}, required=["name"]), **{"x-one-of": ["secret", "configMap", "persistentVolumeClaim", "emptyDir"]})

POD_SPEC = obj({
    "containers": array(CONTAINER, min_items=1),
    "restartPolicy": string(enum=["Never", "OnFailure"]),  # a Job's pods: Always is refused
    "volumes": array(VOLUME),
    "nodeSelector": string_map(),
    "serviceAccountName": string("dns1123-subdomain"),
    "terminationGracePeriodSeconds": integer(0, 2**63 - 1),
    "activeDeadlineSeconds": integer(1, 2**63 - 1),
    "imagePullSecrets": array(obj({"name": string("dns1123-subdomain")}, required=["name"])),
    "securityContext": obj({"runAsUser": integer(0, 2**63 - 1), "runAsGroup": integer(0, 2**63 - 1),
                            "runAsNonRoot": BOOLEAN, "fsGroup": integer(0, 2**63 - 1),
                            "supplementalGroups": array(integer(0, 2**63 - 1))}),
}, required=["containers", "restartPolicy"])

POD_FAILURE_POLICY = obj({
    "rules": array(obj({
        "action": string(enum=["FailJob", "FailIndex", "Ignore", "Count"]),
        "onExitCodes": obj({"containerName": string("dns1123-label"), "operator": string(enum=["In", "NotIn"]),
                            "values": array(integer(-2**31, INT32_MAX), min_items=1)},
                           required=["operator", "values"]),
        "onPodConditions": array(obj({"type": string(), "status": string(enum=["True", "False", "Unknown"])},
                                     required=["type"])),
    }, required=["action"]), min_items=1),
}, required=["rules"])

JOB = obj({
    "apiVersion": string(enum=["batch/v1"]),
    "kind": string(enum=["Job"]),
    "metadata": dict(OBJECT_META, properties=dict(OBJECT_META["properties"], name=string("job-name"))),
    "spec": obj({
        "template": obj({
            "metadata": obj({"labels": string_map(), "annotations": string_map()}),
            "spec": POD_SPEC,
        }, required=["spec"]),
        "completions": integer(),
        "parallelism": integer(),
        "backoffLimit": integer(),
        "backoffLimitPerIndex": integer(),
        "maxFailedIndexes": integer(),
        "completionMode": string(enum=["NonIndexed", "Indexed"]),
        "activeDeadlineSeconds": integer(0, 2**63 - 1),
        "ttlSecondsAfterFinished": integer(),
        "suspend": BOOLEAN,
        "podReplacementPolicy": string(enum=["TerminatingOrFailed", "Failed"]),
        "podFailurePolicy": POD_FAILURE_POLICY,
    }, required=["template"]),
}, required=["apiVersion", "kind", "metadata", "spec"])

SECRET = obj({
    "apiVersion": string(enum=["v1"]),
    "kind": string(enum=["Secret"]),
    "metadata": OBJECT_META,
    "type": string(),  # Opaque when left out
    "stringData": string_map("config-key"),
    "data": dict(string_map("config-key"), additionalProperties=string("base64")),
    "immutable": BOOLEAN,
}, required=["apiVersion", "kind", "metadata"])

CONFIG_MAP = obj({
    "apiVersion": string(enum=["v1"]),
    "kind": string(enum=["ConfigMap"]),
    "metadata": OBJECT_META,
    "data": string_map("config-key"),
    "binaryData": dict(string_map("config-key"), additionalProperties=string("base64")),
    "immutable": BOOLEAN,
}, required=["apiVersion", "kind", "metadata"])

PVC = obj({
    "apiVersion": string(enum=["v1"]),
    "kind": string(enum=["PersistentVolumeClaim"]),
    "metadata": OBJECT_META,
    "spec": obj({
        "accessModes": array(string(enum=["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]),
                             min_items=1),
        "resources": obj({
            "requests": obj({"storage": QUANTITY_SCHEMA}, required=["storage"]),
            "limits": obj({"storage": QUANTITY_SCHEMA}),
        }, required=["requests"]),
        "storageClassName": string(),
        "volumeMode": string(enum=["Filesystem", "Block"]),
        "volumeName": string(),
    }, required=["accessModes", "resources"]),
}, required=["apiVersion", "kind", "metadata", "spec"])

SCHEMAS = {
    ("batch/v1", "Job"): JOB,
    ("v1", "Secret"): SECRET,
    ("v1", "ConfigMap"): CONFIG_MAP,
    ("v1", "PersistentVolumeClaim"): PVC,
}


# --- schema walk -----------------------------------------------------------

def join(path, key):
    if isinstance(key, int):
        return "%s[%d]" % (path, key)
    return "%s.%s" % (path, key) if path else str(key)


def type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def walk(value, schema, path, errors):
    """Appends (path, message) to errors for each way value breaks schema."""
    at = path or "(root)"
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            errors.append((at, "must be a number or a string, not %s" % type_name(value)))
            return
    else:
        kind = schema["type"]
        ok = {"object": isinstance(value, dict), "array": isinstance(value, list), "string": isinstance(value, str),
              "integer": is_int(value), "boolean": isinstance(value, bool)}[kind]
        if not ok:
            want = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
                    "boolean": "a boolean (true or false)"}[kind]
            errors.append((at, "must be %s, not %s%s" % (
                want, type_name(value), "" if isinstance(value, (dict, list)) or value is None
                else " (%s)" % json.dumps(value))))
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append((at, "%s is not one of %s" % (json.dumps(value), ", ".join(schema["enum"]))))
    if "format" in schema:
        why = check_format(schema["format"], value)
        if why:
            errors.append((at, why))
    if "minimum" in schema and value < schema["minimum"]:
        errors.append((at, "must be at least %d, not %d" % (schema["minimum"], value)))
    if "maximum" in schema and value > schema["maximum"]:
        errors.append((at, "must be at most %s, not %d" % (
            oct(schema["maximum"]).replace("0o", "0") if schema["maximum"] == 0o777 else schema["maximum"], value)))
    if schema.get("type") == "array":
        if len(value) < schema.get("minItems", 0):
            errors.append((at, "must not be empty"))
        for i, item in enumerate(value):
            walk(item, schema["items"], join(path, i), errors)
    elif schema.get("type") == "object":
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", False)
        for key in schema.get("required", []):
            if key not in value:
                errors.append((join(path, key), "required field missing"))
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append((at, "key %s is not a string" % json.dumps(key)))
                continue
            if key in props:
                walk(item, props[key], join(path, key), errors)
            elif extra is False:
                hint = close_match(key, props)
                errors.append((join(path, key), "unknown field%s (known here: %s)" % (
                    "; did you mean %r?" % hint if hint else "", ", ".join(sorted(props)))))
            else:
                if schema.get("x-key-format"):
                    why = check_format(schema["x-key-format"], key)
                    if why:
                        errors.append((join(path, key), why))
                walk(item, extra, join(path, key), errors)
        one_of = schema.get("x-one-of")
        if one_of:
            present = [k for k in one_of if k in value]
            if len(present) != 1:
                errors.append((at, "needs exactly one of %s, has %s" % (
                    ", ".join(one_of), ", ".join(present) if present else "none")))


def close_match(key, candidates):
    import difflib
    m = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.75)
    if m:
        return m[0]
    lower = {c.lower(): c for c in candidates}
    return lower.get(key.lower())


# --- rules beyond the schema -----------------------------------------------

def var_refs(s):
    """The names of the $(VAR) references in s, as Kubernetes' expansion reads them ($$ escapes)."""
    return expand(s, {})[1]


def expand(s, mapping):
    """Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): returns (result, names referenced).
    $$ is a literal $; $(NAME) is mapping[NAME], or left as written when NAME is not in mapping."""
    out, refs, i = [], [], 0
    while i < len(s):
        if s[i] == "$" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                close = s.find(")", i + 2)
                if close < 0:
                    out.append("$(")
                    i += 2
                    continue
                name = s[i + 2:close]
                refs.append(name)
                out.append(mapping[name] if name in mapping else "$(%s)" % name)
                i = close + 1
                continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(s[i])
        i += 1
    return "".join(out), refs


def dig(value, *keys):
    for k in keys:
        if isinstance(k, int):
            if not isinstance(value, list) or k >= len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[k] if isinstance(k, int) else value.get(k)
    return value


def as_list(value):
    return value if isinstance(value, list) else []


def auth_file_arg(argv):
    """The FILE of smbcopy's -A FILE / --authentication-file FILE in argv, or None."""
    for i, a in enumerate(argv):
        if not isinstance(a, str):
            continue
        if a in ("-A", "--authentication-file") and i + 1 < len(argv) and isinstance(argv[i + 1], str):
            return argv[i + 1]
        if a.startswith("--authentication-file="):
            return a.split("=", 1)[1]
        if a.startswith("-A") and len(a) > 2 and not a.startswith("--"):
            return a[2:]
    return None


def check_pod(pod, path, errors):
    volumes = {}
    for i, v in enumerate(as_list(pod.get("volumes"))):
        name = dig(v, "name")
        if isinstance(name, str):
            if name in volumes:
                errors.append((join(join(path, "volumes"), i) + ".name", "volume %r declared twice" % name))
            volumes[name] = v
    names = set()
    for ci, c in enumerate(as_list(pod.get("containers"))):
        if not isinstance(c, dict):
            continue
        cpath = join(join(path, "containers"), ci)
        if isinstance(c.get("name"), str):
            if c["name"] in names:
                errors.append((cpath + ".name", "container name %r used twice" % c["name"]))
            names.add(c["name"])
        mount_paths = {}
        for mi, m in enumerate(as_list(c.get("volumeMounts"))):
            mpath = join(join(cpath, "volumeMounts"), mi)
            if isinstance(dig(m, "name"), str) and m["name"] not in volumes:
                errors.append((mpath + ".name", "mounts volume %r, which spec.template.spec.volumes does not declare"
                               % m["name"]))
            mp = dig(m, "mountPath")
            if isinstance(mp, str):
                if mp in mount_paths:
                    errors.append((mpath + ".mountPath", "%r is already the mountPath of volumeMounts[%d]"
                                   % (mp, mount_paths[mp])))
                mount_paths.setdefault(mp, mi)
        # $(VAR) in an env value: expanded only from variables declared before it in the same container.
        declared = set()
        for ei, e in enumerate(as_list(c.get("env"))):
            value = dig(e, "value")
            if isinstance(value, str):
                for ref in var_refs(value):
                    if ref and ref not in declared:
                        errors.append((join(join(cpath, "env"), ei) + ".value",
                                       "$(%s) names no variable declared before it in this container's env; "
                                       "Kubernetes would leave it unexpanded" % ref))
            if isinstance(dig(e, "name"), str):
                declared.add(e["name"])
        # command and args: expanded from any of the container's env variables.
        for field in ("command", "args"):
            for ai, a in enumerate(as_list(c.get(field))):
                if isinstance(a, str):
                    for ref in var_refs(a):
                        if ref and ref not in declared:
                            errors.append((join(join(cpath, field), ai),
                                           "$(%s) names no variable of this container's env; Kubernetes would "
                                           "leave it unexpanded" % ref))
        check_smbcopy_auth(pod, path, c, cpath, volumes, errors)


def check_smbcopy_auth(pod, path, c, cpath, volumes, errors):
    """smbcopy refuses an -A file that group or others may read: a Secret volume's files get defaultMode
    (0644 when left out), and fsGroup adds group read to them."""
    argv = as_list(c.get("command")) + as_list(c.get("args"))
    if not argv or not isinstance(argv[0], str) or argv[0].rsplit("/", 1)[-1] != "smbcopy":
        return
    auth = auth_file_arg(argv)
    if not auth or not auth.startswith("/"):
        return
    for m in as_list(c.get("volumeMounts")):
        mp, vname = dig(m, "mountPath"), dig(m, "name")
        if not isinstance(mp, str) or vname not in volumes:
            continue
        root = mp.rstrip("/") + "/"
        if not auth.startswith(root):
            continue
        vi = next(i for i, v in enumerate(as_list(pod.get("volumes"))) if dig(v, "name") == vname)
        vpath = join(join(path, "volumes"), vi)
        for kind in ("secret", "configMap"):
            src = dig(volumes[vname], kind)
            if not isinstance(src, dict):
                continue
            rel = auth[len(root):]
            mode, where = src.get("defaultMode", 0o644), "%s.%s.defaultMode" % (vpath, kind)
            note = "" if "defaultMode" in src else ", the default"
            for ii, item in enumerate(as_list(src.get("items"))):
                if dig(item, "path") == rel and is_int(dig(item, "mode")):
                    mode, where, note = item["mode"], "%s.%s.items[%d].mode" % (vpath, kind, ii), ""
            if is_int(mode) and mode & 0o077:
                errors.append((where, "smbcopy's auth file %s would have mode %04o%s; smbcopy refuses one that "
                               "group or others can read: use 0400" % (auth, mode, note)))
            if is_int(dig(pod, "securityContext", "fsGroup")):
                errors.append((path + ".securityContext.fsGroup",
                               "fsGroup makes the kubelet add group read to %s, which smbcopy then refuses as its "
                               "auth file" % auth))


def check_job(doc, errors):
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        return
    mode = spec.get("completionMode", "NonIndexed")
    restart = dig(spec, "template", "spec", "restartPolicy")
    for field in ("backoffLimitPerIndex", "maxFailedIndexes"):
        if field in spec and mode != "Indexed":
            errors.append(("spec." + field, "only with completionMode Indexed (completionMode is %s)" % mode))
    if mode == "Indexed" and "completions" not in spec:
        errors.append(("spec.completions", "required with completionMode Indexed"))
    if "maxFailedIndexes" in spec and "backoffLimitPerIndex" not in spec:
        errors.append(("spec.maxFailedIndexes", "only with backoffLimitPerIndex"))
    if is_int(spec.get("maxFailedIndexes")) and is_int(spec.get("completions")) \
            and spec["maxFailedIndexes"] > spec["completions"]:
        errors.append(("spec.maxFailedIndexes", "must be at most completions (%d)" % spec["completions"]))
    if "backoffLimitPerIndex" in spec and restart not in (None, "Never"):
        errors.append(("spec.template.spec.restartPolicy",
                       "must be Never with backoffLimitPerIndex, not %s" % json.dumps(restart)))
    if "podFailurePolicy" in spec:
        if restart not in (None, "Never"):
            errors.append(("spec.template.spec.restartPolicy",
                           "must be Never with podFailurePolicy, not %s" % json.dumps(restart)))
        for i, rule in enumerate(as_list(dig(spec, "podFailurePolicy", "rules"))):
            if dig(rule, "action") == "FailIndex" and "backoffLimitPerIndex" not in spec:
                errors.append(("spec.podFailurePolicy.rules[%d].action" % i, "FailIndex only with backoffLimitPerIndex"))
    pod = dig(spec, "template", "spec")
    if isinstance(pod, dict):
        check_pod(pod, "spec.template.spec", errors)


def check_secret(doc, errors):
    if doc.get("type", "Opaque") == "Opaque":
        return
    if not isinstance(doc.get("type"), str) or not doc["type"]:
        errors.append(("type", "must be a non-empty string (Opaque when left out)"))


RULES = {"Job": check_job, "Secret": check_secret}


def validate_document(doc):
    """[(path, message)] for one parsed document (not None)."""
    errors = []
    if not isinstance(doc, dict):
        return [("(root)", "must be a mapping (a Kubernetes object), not %s" % type_name(doc))]
    api, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api, str):
        errors.append(("apiVersion", "required field missing" if api is None else "must be a string"))
    if not isinstance(kind, str):
        errors.append(("kind", "required field missing" if kind is None else "must be a string"))
    if errors:
        return errors
    schema = SCHEMAS.get((api, kind))
    if schema is None:
        known = ", ".join("%s %s" % (k, a) for a, k in SCHEMAS)
        kinds = [a for a, k in SCHEMAS if k == kind]
        if kinds:
            return [("apiVersion", "%s is not %s's apiVersion (%s)" % (json.dumps(api), kind, kinds[0]))]
        return [("kind", "%s is not a kind this check knows (%s)" % (json.dumps(kind), known))]
    walk(doc, schema, "", errors)
    rule = RULES.get(kind)
    if rule:
        rule(doc, errors)
    return errors


# --- reading YAML ----------------------------------------------------------

def duplicate_keys(node, path=""):
    """(path, message) for each mapping key written twice (kubectl refuses those; PyYAML keeps the last)."""
    found = []
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else None
            if key is not None and key in seen:
                found.append((join(path, key), "key written twice (line %d)" % (knode.start_mark.line + 1)))
            seen.add(key)
            found += duplicate_keys(vnode, join(path, key) if key is not None else path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += duplicate_keys(item, join(path, i))
    return found


def load_documents(text):
    """Yields (number, data, problems) per YAML document; a YAML error ends it with data None."""
    loader = yaml.SafeLoader(text)
    n = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                node = loader.get_node()
                n += 1
                problems = duplicate_keys(node)
                data = loader.construct_document(node)
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                # a parse error comes before the document is counted, a construction error after
                number = n if isinstance(e, yaml.constructor.ConstructorError) else n + 1
                yield number, None, [("line %d" % (mark.line + 1) if mark else "(yaml)",
                                      "not valid YAML: %s" % (getattr(e, "problem", None) or e))]
                return
            yield n, data, problems
    finally:
        loader.dispose()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def validate_files(paths, out):
    bad = 0
    for path in paths:
        try:
            text = read(path)
        except (OSError, UnicodeDecodeError) as e:
            out.write("%s: cannot read: %s\n" % (path, e))
            bad += 1
            continue
        objects = reported = 0
        for n, data, problems in load_documents(text):
            if data is not None:
                objects += 1
                problems = problems + validate_document(data)
            for where, what in problems:
                out.write("%s: document %d: %s: %s\n" % (path, n, where, what))
                reported += 1
        bad += reported
        if objects == 0 and reported == 0:
            out.write("%s: document 1: (root): no Kubernetes object in this file\n" % path)
            bad += 1
    return bad


def job_commands(text, name):
    """[argv] for each container of each Job in the YAML text, $(VAR) expanded from literal env values."""
    result = []
    for n, data, problems in load_documents(text):
        if data is None and problems:
            raise ValueError("%s: document %d: %s: %s" % (name, n, problems[0][0], problems[0][1]))
        if not isinstance(data, dict) or data.get("kind") != "Job":
            continue
        for c in as_list(dig(data, "spec", "template", "spec", "containers")):
            env = {}
            for e in as_list(dig(c, "env")):
                if isinstance(dig(e, "name"), str) and isinstance(dig(e, "value"), str):
                    env[e["name"]] = expand(e["value"], env)[0]
            argv = as_list(dig(c, "command")) + as_list(dig(c, "args"))
            result.append([expand(a, env)[0] if isinstance(a, str) else a for a in argv])
    return result


# --- self-test -------------------------------------------------------------

VALID_JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: smbcopy-shards
spec:
  completionMode: Indexed
  completions: 4
  parallelism: 4
  backoffLimitPerIndex: 3
  maxFailedIndexes: 4
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: smbcopy
          image: registry.example.com/smbcopy:1.0
          command: ["smbcopy"]
          args: ["-A", "/secrets/smb/auth", "--plan", "/work/plan.json", "--no-progress"]
          env:
            - name: JOB_COMPLETION_INDEX
              valueFrom:
                fieldRef:
                  fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
            - name: XDG_STATE_HOME
              value: /work/state/$(JOB_COMPLETION_INDEX)
          resources:
            requests:
              cpu: "2"
              memory: 1Gi
          volumeMounts:
            - name: auth
              mountPath: /secrets/smb
              readOnly: true
            - name: work
              mountPath: /work
      volumes:
        - name: auth
          secret:
            secretName: smbcopy-auth
            items:
              - key: auth
                path: auth
            defaultMode: 0400
        - name: work
          persistentVolumeClaim:
            claimName: smbcopy-work
"""


def _container(d):
    return d["spec"]["template"]["spec"]["containers"][0]


def _rename(d, old, new):
    d[new] = d.pop(old)


def _swap_env(d):
    env = _container(d)["env"]
    env[0], env[1] = env[1], env[0]


# (what is broken, mutation of the valid Job, a path the refusal must name)
MUTATIONS = [
    ("typo'd key complections", lambda d: _rename(d["spec"], "completions", "complections"), "spec.complections"),
    ("completionMode \"indexed\"", lambda d: d["spec"].update(completionMode="indexed"), "spec.completionMode"),
    ("parallelism \"4\", a string", lambda d: d["spec"].update(parallelism="4"), "spec.parallelism"),
    ("mount of an undeclared volume", lambda d: _container(d)["volumeMounts"][1].update(name="scratch"),
     "spec.template.spec.containers[0].volumeMounts[1].name"),
    ("backoffLimitPerIndex with NonIndexed", lambda d: d["spec"].update(completionMode="NonIndexed"),
     "spec.backoffLimitPerIndex"),
    ("$(VAR) used before it is declared", _swap_env, "spec.template.spec.containers[0].env[0].value"),
    ("bad quantity \"2 cores\"", lambda d: _container(d)["resources"]["requests"].update(cpu="2 cores"),
     "spec.template.spec.containers[0].resources.requests.cpu"),
    # a few more of the same kind
    ("typo'd key in a container (volumeMount)", lambda d: _rename(_container(d), "volumeMounts", "volumeMount"),
     "spec.template.spec.containers[0].volumeMount"),
    ("restartPolicy OnFailure with backoffLimitPerIndex",
     lambda d: d["spec"]["template"]["spec"].update(restartPolicy="OnFailure"), "spec.template.spec.restartPolicy"),
    ("restartPolicy Always", lambda d: d["spec"]["template"]["spec"].update(restartPolicy="Always"),
     "spec.template.spec.restartPolicy"),
    ("maxFailedIndexes above completions", lambda d: d["spec"].update(maxFailedIndexes=5), "spec.maxFailedIndexes"),
    ("negative backoffLimitPerIndex", lambda d: d["spec"].update(backoffLimitPerIndex=-1),
     "spec.backoffLimitPerIndex"),
    ("empty containers", lambda d: d["spec"]["template"]["spec"].update(containers=[]),
     "spec.template.spec.containers"),
    ("container name not a DNS-1123 label", lambda d: _container(d).update(name="SMBCopy_1"),
     "spec.template.spec.containers[0].name"),
    ("args holding a number", lambda d: _container(d)["args"].append(4), "spec.template.spec.containers[0].args[5]"),
    ("relative mountPath", lambda d: _container(d)["volumeMounts"][1].update(mountPath="work"),
     "spec.template.spec.containers[0].volumeMounts[1].mountPath"),
    ("readOnly \"true\", a string", lambda d: _container(d)["volumeMounts"][0].update(readOnly="true"),
     "spec.template.spec.containers[0].volumeMounts[0].readOnly"),
    ("secret defaultMode 0644: smbcopy refuses the auth file",
     lambda d: d["spec"]["template"]["spec"]["volumes"][0]["secret"].update(defaultMode=0o644),
     "spec.template.spec.volumes[0].secret.defaultMode"),
    ("secret defaultMode left out (0644)",
     lambda d: d["spec"]["template"]["spec"]["volumes"][0]["secret"].pop("defaultMode"),
     "spec.template.spec.volumes[0].secret.defaultMode"),
    ("fsGroup: group read on the auth file",
     lambda d: d["spec"]["template"]["spec"].update(securityContext={"fsGroup": 1000}),
     "spec.template.spec.securityContext.fsGroup"),
    ("volume with two sources",
     lambda d: d["spec"]["template"]["spec"]["volumes"][1].update(emptyDir={}), "spec.template.spec.volumes[1]"),
    ("env value a number", lambda d: _container(d)["env"][1].update(value=4),
     "spec.template.spec.containers[0].env[1].value"),
    ("bad fieldPath", lambda d: _container(d)["env"][0]["valueFrom"]["fieldRef"].update(
        fieldPath="metadata.annotations.job-completion-index"),
     "spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath"),
    ("template missing", lambda d: d["spec"].pop("template"), "spec.template"),
    ("metadata.name missing", lambda d: d["metadata"].pop("name"), "metadata.name"),
    ("apiVersion batch/v1beta1", lambda d: d.update(apiVersion="batch/v1beta1"), "apiVersion"),
]

QUANTITIES_GOOD = ["2", "500m", "1.5", "1Gi", "512Mi", "1e3", "1E3", "1E", ".5", "2.", "100k", "+1", 2, 0.5]
QUANTITIES_BAD = ["2 cores", "1GB", "1gi", "", "Gi", "1.2.3", "-1", "1e", "1 Gi", "0x10", -1]


def self_test(out):
    failures = 0
    valid = yaml.safe_load(VALID_JOB)
    errors = validate_document(valid)
    if errors:
        failures += 1
        out.write("FAIL valid Job refused:\n")
        for where, what in errors:
            out.write("       %s: %s\n" % (where, what))
    else:
        out.write("ok   valid Indexed Job accepted\n")
    for name, mutate, want_path in MUTATIONS:
        doc = copy.deepcopy(valid)
        mutate(doc)
        errors = validate_document(doc)
        hits = [e for e in errors if e[0] == want_path]
        if hits:
            out.write("ok   refused: %s: %s: %s\n" % (name, hits[0][0], hits[0][1]))
        else:
            failures += 1
            out.write("FAIL not refused at %s: %s%s\n" % (want_path, name, "".join(
                "\n       (reported: %s: %s)" % e for e in errors)))
    # The same checks read from YAML text: duplicate keys, and 0400 read as octal.
    dup = VALID_JOB.replace("  parallelism: 4\n", "  parallelism: 4\n  parallelism: 2\n")
    probs = [p for _, _, ps in load_documents(dup) for p in ps]
    if any(p[0] == "spec.parallelism" for p in probs):
        out.write("ok   refused: a key written twice: %s: %s\n" % probs[0])
    else:
        failures += 1
        out.write("FAIL a key written twice not refused\n")
    if valid["spec"]["template"]["spec"]["volumes"][0]["secret"]["defaultMode"] == 0o400:
        out.write("ok   defaultMode: 0400 read as octal (256)\n")
    else:
        failures += 1
        out.write("FAIL defaultMode: 0400 not read as octal\n")
    bad_q = [q for q in QUANTITIES_GOOD if check_format("quantity", q)]
    bad_q += [q for q in QUANTITIES_BAD if not check_format("quantity", q)]
    if bad_q:
        failures += 1
        out.write("FAIL quantity grammar wrong for %s\n" % ", ".join(json.dumps(q) for q in bad_q))
    else:
        out.write("ok   quantity grammar: %d accepted, %d refused as they should be\n"
                  % (len(QUANTITIES_GOOD), len(QUANTITIES_BAD)))
    cases = [("/w/$(A)", {"A": "1"}, "/w/1"), ("$$(A)", {"A": "1"}, "$(A)"), ("$(B)", {}, "$(B)"),
             ("a$b", {}, "a$b"), ("$(A", {"A": "1"}, "$(A"), ("x$", {}, "x$")]
    wrong = [c for c in cases if expand(c[0], c[1])[0] != c[2]]
    if wrong:
        failures += 1
        out.write("FAIL $(VAR) expansion wrong for %s\n" % ", ".join(c[0] for c in wrong))
    else:
        out.write("ok   $(VAR) expansion: %d cases\n" % len(cases))
    commands = job_commands(VALID_JOB, "VALID_JOB")
    if commands == [["smbcopy", "-A", "/secrets/smb/auth", "--plan", "/work/plan.json", "--no-progress"]]:
        out.write("ok   commands: the Job's command line extracted\n")
    else:
        failures += 1
        out.write("FAIL commands: got %s\n" % json.dumps(commands))
    out.write("self-test: %s (%d broken documents, %d failure%s)\n" % (
        "passed" if failures == 0 else "FAILED", len(MUTATIONS) + 1, failures, "" if failures == 1 else "s"))
    return failures


# --- main ------------------------------------------------------------------

USAGE = """usage: %s validate FILE.yaml...
       %s commands FILE.yaml
       %s self-test
""" % (PROG, PROG, PROG)


def main(argv):
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE) if argv else sys.stderr.write(USAGE)
        return 0 if argv else 2
    cmd, args = argv[0], argv[1:]
    if cmd == "validate" and args:
        return 1 if validate_files(args, sys.stdout) else 0
    if cmd == "commands" and len(args) == 1:
        try:
            commands = job_commands(read(args[0]), args[0])
        except (OSError, UnicodeDecodeError, ValueError) as e:
            sys.stderr.write("%s: %s\n" % (PROG, e))
            return 1
        if not commands:
            sys.stderr.write("%s: %s: no Job in this file\n" % (PROG, args[0]))
            return 1
        for c in commands:
            sys.stdout.write(json.dumps(c) + "\n")
        return 0
    if cmd == "self-test" and not args:
        return 1 if self_test(sys.stdout) else 0
    sys.stderr.write(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
