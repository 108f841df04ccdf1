#!/usr/bin/python3
"""Offline validation of kube/: schema, API versions, and the deployment contract.

Run with Debian's /usr/bin/python3 (python3-kubernetes, python3-yaml):

    tests/kube/validate-manifests.py [KUBE_DIR]        (default: this tree's kube/)

1. Renders kube/ and kube/overlays/* with a small kustomize of its own (resources,
   images, JSON 6902 patches: what kube/ uses; anything else is refused), and checks it
   against `kubectl kustomize` when kubectl is installed.
2. Checks every object against the Kubernetes API schema as python3-kubernetes models
   it (openapi_types / attribute_map, walked recursively): unknown fields (a typo such
   as livenesProbe), wrong types, missing required fields, malformed quantities,
   duplicate keys. Only current, stable API versions are accepted; the client predates
   autoscaling/v2, whose objects are checked with the identical v2beta2 models.
3. Checks the deployment contract of kube/README.md (and of the design page it came from): names, labels and selectors
   that match, probes, ports, volumes, the restricted Pod Security Standard, the
   storage choice (RWO co-location or RWX), and that the images' Dockerfiles agree.
4. Proves that the checks bite: known-bad variants of the manifests must be refused.

Prints one "ok N - ..." or "not ok N - ..." line per check and "N passed, N failed".
"""

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
    import kubernetes.client as k8s
except ImportError as e:  # pragma: no cover - the wrapper installs them
    # (also when validate-kserve.py loads this file: it names the script that runs)
    print(f"{os.path.basename(sys.argv[0])}: {e}: install python3-kubernetes and python3-yaml, "
          "and run with /usr/bin/python3", file=sys.stderr)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))

# ----------------------------------------------------------------------------- YAML

class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (the API server's strict decoding does)."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml_docs(text, where):
    try:
        return [d for d in yaml.load_all(text, Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        raise ValidationError([f"{where}: {e}"])


class ValidationError(Exception):
    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors

# ----------------------------------------------------------------------------- kustomize (subset)

KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "images", "patches"}


def render(directory):
    """Renders the kustomization in DIRECTORY: a list of objects (dicts)."""
    path = None
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        if os.path.isfile(os.path.join(directory, name)):
            path = os.path.join(directory, name)
            break
    if path is None:
        raise ValidationError([f"{directory}: no kustomization.yaml"])
    with open(path) as f:
        docs = load_yaml_docs(f.read(), path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ValidationError([f"{path}: expected one mapping"])
    kz = docs[0]
    unknown = set(kz) - KUSTOMIZATION_KEYS
    if unknown:
        raise ValidationError([f"{path}: kustomize features this renderer does not implement: "
                               f"{sorted(unknown)} (keep kube/ simple, or extend the renderer)"])
    if kz.get("kind", "Kustomization") != "Kustomization":
        raise ValidationError([f"{path}: kind must be Kustomization"])
    objects = []
    for res in kz.get("resources", []):
        full = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(full):
            if os.path.commonpath([full, directory]) == full:
                raise ValidationError([f"{path}: resource {res} contains this kustomization "
                                       "(kustomize refuses such cycles)"])
            objects.extend(render(full))
        elif os.path.isfile(full):
            if os.path.commonpath([full, directory]) != directory:
                raise ValidationError([f"{path}: file {res} is outside the kustomization's "
                                       "directory (kustomize's load restrictor refuses it)"])
            with open(full) as f:
                objects.extend(load_yaml_docs(f.read(), full))
        else:
            raise ValidationError([f"{path}: resource {res} does not exist"])
    for i, patch in enumerate(kz.get("patches", [])):
        apply_patch(objects, patch, f"{path}: patches[{i}]")
    for image in kz.get("images", []):
        set_image(objects, image, path)
    return objects


def _matches(obj, target):
    for key in ("kind", "name", "namespace"):
        if key in target:
            value = obj.get("kind") if key == "kind" else obj.get("metadata", {}).get(key)
            if value != target[key]:
                return False
    if set(target) - {"kind", "name", "namespace", "group", "version"}:
        raise ValidationError([f"patch target {target}: only kind/name/namespace/group/version"])
    if "group" in target or "version" in target:
        group, _, version = obj.get("apiVersion", "").rpartition("/")
        if target.get("group", group) != group or target.get("version", version) != version:
            return False
    return True


def _pointer(path):
    if not path.startswith("/"):
        raise ValidationError([f"JSON pointer {path!r} must start with /"])
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc, ops, where):
    """RFC 6902 add / remove / replace / test: what kustomize applies for list patches."""
    for op in ops:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        parent = doc
        for p in parts[:-1]:
            try:
                parent = parent[int(p)] if isinstance(parent, list) else parent[p]
            except (KeyError, IndexError, ValueError, TypeError):
                raise ValidationError([f"{where}: {op['path']}: no such path"])
        last = parts[-1]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
        if kind == "add":
            if isinstance(parent, list):
                parent.insert(index, copy.deepcopy(op["value"]))
            else:
                parent[last] = copy.deepcopy(op["value"])
        elif kind in ("remove", "replace", "test"):
            try:
                current = parent[index] if isinstance(parent, list) else parent[last]
            except (KeyError, IndexError):
                raise ValidationError([f"{where}: {op['path']}: no such path to {kind}"])
            if kind == "remove":
                del parent[index if isinstance(parent, list) else last]
            elif kind == "replace":
                parent[index if isinstance(parent, list) else last] = copy.deepcopy(op["value"])
            elif current != op["value"]:
                raise ValidationError([f"{where}: test {op['path']} failed"])
        else:
            raise ValidationError([f"{where}: JSON patch op {kind!r} not implemented"])


def apply_patch(objects, patch, where):
    if set(patch) - {"target", "patch"}:
        raise ValidationError([f"{where}: only target + inline patch are implemented"])
    ops = yaml.safe_load(patch["patch"])
    if not isinstance(ops, list):
        raise ValidationError([f"{where}: only JSON 6902 patches (a list of ops) are implemented"])
    hits = [o for o in objects if _matches(o, patch.get("target", {}))]
    if not hits:
        raise ValidationError([f"{where}: target {patch.get('target')} matches nothing"])
    for obj in hits:
        json_patch(obj, ops, where)


def _split_image(image):
    name, digest = (image.split("@", 1) + [None])[:2]
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    return name, tag, digest


def set_image(objects, image, where):
    if set(image) - {"name", "newName", "newTag", "digest"}:
        raise ValidationError([f"{where}: images entry {image}: unknown keys"])

    def visit(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("containers", "initContainers") and isinstance(value, list):
                    for c in value:
                        if isinstance(c, dict) and isinstance(c.get("image"), str):
                            name, tag, digest = _split_image(c["image"])
                            if name == image["name"]:
                                name = image.get("newName", name)
                                tag = str(image.get("newTag", tag)) if image.get("newTag", tag) else None
                                digest = image.get("digest", digest)
                                c["image"] = name + (f":{tag}" if tag and not digest else "") + \
                                    (f"@{digest}" if digest else "")
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(objects)

# ----------------------------------------------------------------------------- schema

# Stable API versions a current cluster serves. Anything else is refused: beta versions
# have been removed (policy/v1beta1 and autoscaling/v2beta2 in 1.25 and 1.26, ...).
STABLE = {"v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2",
          "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1"}
# python3-kubernetes 22 has no autoscaling/v2 models; v2beta2 is the same schema.
MODEL_PREFIX = {"autoscaling/v2": "V2beta2"}
# resource.Quantity fields: the client types them as str, the API accepts numbers too
QUANTITY_FIELDS = {("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests"),
                   ("V1EmptyDirVolumeSource", "size_limit"),
                   ("V2beta2MetricTarget", "average_value"), ("V2beta2MetricTarget", "value")}
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
PRIMITIVES = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def model_class(api_version, kind):
    if api_version not in STABLE:
        return None, (f"apiVersion {api_version} is not a stable API version that current "
                      f"Kubernetes serves (use one of {sorted(STABLE)})")
    version = api_version.rsplit("/", 1)[-1]
    prefix = MODEL_PREFIX.get(api_version, version[0].upper() + version[1:])
    cls = getattr(k8s, prefix + kind, None)
    if cls is None:
        return None, f"unknown kind {kind} in {api_version}"
    return cls, None


def check_type(value, type_name, path, errors, owner=None):
    if type_name.startswith("list["):
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_type(item, type_name[5:-1], f"{path}[{i}]", errors)
        return
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        inner = type_name[5:-1].split(", ", 1)[1]
        for k, v in value.items():
            if not isinstance(k, str):
                errors.append(f"{path}: key {k!r} must be a string")
            if owner in QUANTITY_FIELDS:
                check_quantity(v, f"{path}.{k}", errors)
            else:
                check_type(v, inner, f"{path}.{k}", errors)
        return
    if type_name == "object":  # IntOrString in these kinds
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            errors.append(f"{path}: expected an integer or a string, got {type(value).__name__}")
        return
    if type_name == "datetime":
        if not isinstance(value, str):
            errors.append(f"{path}: expected a timestamp string")
        return
    if type_name in PRIMITIVES:
        if owner in QUANTITY_FIELDS:
            check_quantity(value, path, errors)
            return
        ok = isinstance(value, PRIMITIVES[type_name])
        if type_name in ("int", "float") and isinstance(value, bool):
            ok = False
        if not ok:
            errors.append(f"{path}: expected {type_name}, got {type(value).__name__} {value!r}")
        return
    cls = getattr(k8s, type_name, None)
    if cls is None:
        errors.append(f"{path}: the schema names an unknown type {type_name}")
        return
    check_model(value, cls, path, errors)


def check_quantity(value, path, errors):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or \
            not QUANTITY.match(str(value)):
        errors.append(f"{path}: {value!r} is not a quantity (e.g. 250m, 64Mi, 1Gi)")


def check_model(value, cls, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({cls.__name__}), got {type(value).__name__}")
        return
    by_json = {json_key: attr for attr, json_key in cls.attribute_map.items()}
    for key, item in value.items():
        attr = by_json.get(key)
        if attr is None:
            close = [k for k in by_json if _similar(k, key)]
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.append(f"{path}: unknown field {key!r}{hint}")
            continue
        if item is None:
            continue
        check_type(item, cls.openapi_types[attr], f"{path}.{key}", errors,
                   owner=(cls.__name__, attr))


def _similar(a, b):
    a, b = a.lower(), b.lower()
    if abs(len(a) - len(b)) > 2:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= 2


def schema_errors(obj):
    """Every schema problem of one object, as 'Kind/name: path: message' strings."""
    if not isinstance(obj, dict):
        return [f"a document is not an object: {obj!r}"]
    name = f"{obj.get('kind', '?')}/{obj.get('metadata', {}).get('name', '?')}"
    if "apiVersion" not in obj or "kind" not in obj:
        return [f"{name}: apiVersion and kind are required"]
    cls, problem = model_class(obj["apiVersion"], obj["kind"])
    if cls is None:
        return [f"{name}: {problem}"]
    errors = []
    check_model(obj, cls, obj["kind"], errors)
    if not obj.get("metadata", {}).get("name"):
        errors.append(f"{obj['kind']}: metadata.name is required")
    if not errors:
        # the client's own deserializer enforces required fields and enumerations
        try:
            k8s.ApiClient()._ApiClient__deserialize(copy.deepcopy(obj), cls.__name__)
        except (ValueError, TypeError) as e:
            errors.append(f"{obj['kind']}: {e}")
    return [f"{name}: {e}" if not e.startswith(name) else e for e in errors]

# ----------------------------------------------------------------------------- contract

UID = 10001
MODEL_DIR = "/mnt/model-storage"
MODEL_PATH = MODEL_DIR + "/mnist_model.safetensors"
POD_LABEL_VOLUME = "mnist/volume"
RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}


def by_kind(objects):
    out = {}
    for o in objects:
        out.setdefault(o["kind"], []).append(o)
    return out


def one(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name}, found {len(found)}")
    return found[0]


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def restricted_pod(spec, where):
    """The restricted Pod Security Standard (v1.25+), as the admission controller checks it."""
    problems = []
    psc = spec.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            problems.append(f"{where}: {flag}")
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"{where}: volume {v['name']} of type {sorted(kinds)}")
    if psc.get("seccompProfile", {}).get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append(f"{where}: pod seccompProfile must be RuntimeDefault")
    for c in spec.get("initContainers", []) + spec.get("containers", []):
        sc = c.get("securityContext", {})
        cw = f"{where} container {c['name']}"
        non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if non_root is not True:
            problems.append(f"{cw}: runAsNonRoot must be true")
        if sc.get("runAsUser", psc.get("runAsUser")) in (0, None):
            problems.append(f"{cw}: runAsUser must be a fixed non-zero UID")
        if sc.get("privileged"):
            problems.append(f"{cw}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cw}: allowPrivilegeEscalation must be false")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            problems.append(f"{cw}: capabilities must drop ALL")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{cw}: capabilities add {caps.get('add')}")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cw}: readOnlyRootFilesystem must be true")
        if sc.get("seccompProfile", {}).get("type", "RuntimeDefault") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{cw}: seccompProfile")
        for p in c.get("ports", []):
            if p.get("hostPort"):
                problems.append(f"{cw}: hostPort")
        # a read-only root needs a volume for every path the program writes
        writable = [m["mountPath"] for m in c.get("volumeMounts", []) if not m.get("readOnly")]
        if "/tmp" not in writable:
            problems.append(f"{cw}: no writable volume at /tmp")
        for e in c.get("env", []):
            if e["name"] in ("STATE_DIR", "TMPDIR") and not any(
                    e["value"] == w or e["value"].startswith(w.rstrip("/") + "/") for w in writable):
                problems.append(f"{cw}: {e['name']}={e['value']} is not on a writable volume")
        res = c.get("resources", {})
        for section in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in res.get(section, {}):
                    problems.append(f"{cw}: resources.{section}.{r} missing")
    return problems


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def mount(container, path):
    found = [m for m in container.get("volumeMounts", []) if m["mountPath"] == path]
    return found[0] if found else None


def volume(spec, name):
    found = [v for v in spec.get("volumes", []) if v["name"] == name]
    return found[0] if found else None


def dockerfile(path):
    """USER, EXPOSE and ENV of a Dockerfile's last stage."""
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    stage = text.split("\nFROM ")[-1]
    out = {"env": {}}
    for line in stage.splitlines():
        line = line.strip()
        if line.startswith("USER "):
            out["user"] = line.split()[1]
        elif line.startswith("EXPOSE "):
            out["expose"] = line.split()[1:]
        elif line.startswith("ENV "):
            for k, v in re.findall(r"(\w+)=(\S+)", line[4:]):
                out["env"][k] = v
    return out


def contract_checks(objects, variant, top):
    """(description, function) pairs; each function raises AssertionError on a breach."""
    pvc = lambda: one(objects, "PersistentVolumeClaim", "model-storage-pvc")
    job = lambda: one(objects, "Job", "mnist-training")
    dep = lambda: one(objects, "Deployment", "mnist-inference")
    svc = lambda: one(objects, "Service", "mnist-inference-service")
    pdb = lambda: one(objects, "PodDisruptionBudget", "mnist-inference")
    hpa = lambda: one(objects, "HorizontalPodAutoscaler", "mnist-inference")
    jpod = lambda: job()["spec"]["template"]["spec"]
    dpod = lambda: dep()["spec"]["template"]["spec"]
    jc = lambda: jpod()["containers"][0]
    dc = lambda: dpod()["containers"][0]
    checks = []

    def c(what):
        def register(fn):
            checks.append((f"{variant}: {what}", fn))
            return fn
        return register

    @c("exactly the six objects: PVC, Job, Deployment, Service, PDB, HPA")
    def _():
        kinds = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
        expect(kinds == sorted([("PersistentVolumeClaim", "model-storage-pvc"),
                                ("Job", "mnist-training"), ("Deployment", "mnist-inference"),
                                ("Service", "mnist-inference-service"),
                                ("PodDisruptionBudget", "mnist-inference"),
                                ("HorizontalPodAutoscaler", "mnist-inference")]), kinds)

    @c("every object is labelled app=mnist and with a component kube/deploy.sh applies")
    def _():
        with open(os.path.join(top, "kube", "deploy.sh")) as f:
            steps = re.findall(r"^\s*apply_step (\w+)$", f.read(), re.M)
        expect(steps == ["storage", "training", "inference"], f"deploy.sh steps {steps}")
        for o in objects:
            labels = o["metadata"].get("labels", {})
            expect(labels.get("app") == "mnist" and labels.get("component") in steps,
                   f"{o['kind']}/{o['metadata']['name']}: labels {labels} (deploy.sh applies "
                   "by component: an object without one is never applied)")

    @c("PVC model-storage-pvc requests 1Gi")
    def _():
        expect(pvc()["spec"]["resources"]["requests"]["storage"] == "1Gi", pvc()["spec"])

    @c("Job mnist-training: restartPolicy OnFailure, backoffLimit, activeDeadlineSeconds")
    def _():
        spec = job()["spec"]
        expect(jpod()["restartPolicy"] == "OnFailure", "restartPolicy")
        expect(isinstance(spec.get("backoffLimit"), int) and 1 <= spec["backoffLimit"] <= 10, "backoffLimit")
        expect(isinstance(spec.get("activeDeadlineSeconds"), int) and spec["activeDeadlineSeconds"] >= 600,
               "activeDeadlineSeconds")
        expect("ttlSecondsAfterFinished" not in spec,
               "a finished Job must stay: deploy.sh reads it to know the model is trained")

    @c("Job mounts the PVC read-write at /mnt/model-storage and publishes there")
    def _():
        m = mount(jc(), MODEL_DIR)
        expect(m and not m.get("readOnly"), "mount")
        v = volume(jpod(), m["name"])
        expect(v["persistentVolumeClaim"]["claimName"] == "model-storage-pvc", v)
        expect(not v["persistentVolumeClaim"].get("readOnly"), "the trainer must write")
        expect(env_of(jc()).get("MODEL_PATH", MODEL_PATH) == MODEL_PATH, "MODEL_PATH")
        expect(jpod()["securityContext"].get("fsGroup") == UID,
               "fsGroup: a new disk's root belongs to root; the trainer (UID 10001) must write")

    @c("Job threads match its CPU limit")
    def _():
        args = jc().get("args", [])
        expect("--threads" in args, "--threads")
        threads = int(args[args.index("--threads") + 1])
        expect(str(threads) == str(jc()["resources"]["limits"]["cpu"]), (threads, jc()["resources"]))

    @c("Deployment mnist-inference: 2 replicas, labels app=mnist component=inference")
    def _():
        d = dep()
        expect(d["spec"]["replicas"] == 2, "replicas")
        want = {"app": "mnist", "component": "inference"}
        expect(selects(want, d["metadata"]["labels"]), "metadata.labels")
        expect(d["spec"]["selector"] == {"matchLabels": want}, d["spec"]["selector"])
        expect(selects(want, d["spec"]["template"]["metadata"]["labels"]), "template labels")

    @c("rolling update maxUnavailable 0, maxSurge 1")
    def _():
        s = dep()["spec"]["strategy"]
        expect(s["type"] == "RollingUpdate" and s["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}, s)

    @c("stopping: no preStop; the grace period covers the drain window and the requests in flight")
    def _():
        d = dep()["spec"]
        expect(d.get("minReadySeconds", 0) >= 5, "minReadySeconds")
        expect("lifecycle" not in dc(), "the drain runs on SIGTERM alone: no preStop")
        drain = int(env_of(dc()).get("DRAIN_SECONDS", "20"))
        p = dc()["readinessProbe"]
        expect(drain >= p["periodSeconds"] * p["failureThreshold"],
               ("the window must outlast the readiness probe's detection", drain))
        grace = d["template"]["spec"]["terminationGracePeriodSeconds"]
        expect(grace >= drain + 10 + 5, ("grace >= drain + 10 s in flight + margin", grace, drain))

    @c("readinessProbe GET /health :5000, 10/5/3/3")
    def _():
        p = dc()["readinessProbe"]
        expect(p == {"httpGet": {"path": "/health", "port": 5000}, "initialDelaySeconds": 10,
                     "periodSeconds": 5, "timeoutSeconds": 3, "failureThreshold": 3}, p)

    @c("livenessProbe GET /health/live :5000, 30/10/5/3")
    def _():
        p = dc()["livenessProbe"]
        expect(p == {"httpGet": {"path": "/health/live", "port": 5000}, "initialDelaySeconds": 30,
                     "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3}, p)

    @c("container port 5000, PORT=5000, model path and state directory")
    def _():
        expect([p["containerPort"] for p in dc()["ports"]] == [5000], dc()["ports"])
        env = env_of(dc())
        expect(env.get("PORT") == "5000", env)
        expect(env.get("MODEL_PATH") == MODEL_PATH, env)

    @c("Deployment mounts the PVC read-only at /mnt/model-storage")
    def _():
        m = mount(dc(), MODEL_DIR)
        expect(m and m.get("readOnly") is True, "mount readOnly")
        v = volume(dpod(), m["name"])
        expect(v["persistentVolumeClaim"] == {"claimName": "model-storage-pvc", "readOnly": True}, v)

    @c("writable paths are emptyDirs with a size limit")
    def _():
        for spec, container in ((jpod(), jc()), (dpod(), dc())):
            for m in container["volumeMounts"]:
                if m["mountPath"] != MODEL_DIR:
                    v = volume(spec, m["name"])
                    expect("emptyDir" in v and v["emptyDir"].get("sizeLimit"), v)

    @c("restricted Pod Security Standard (Job and Deployment)")
    def _():
        problems = restricted_pod(jpod(), "Job") + restricted_pod(dpod(), "Deployment")
        expect(not problems, problems)
        for spec in (jpod(), dpod()):
            expect(spec["securityContext"].get("runAsUser") == UID, "runAsUser 10001")
            expect(spec.get("automountServiceAccountToken") is False, "no API token needed")

    @c("Service mnist-inference-service: LoadBalancer, port 80 -> 5000, selects the pods")
    def _():
        s = svc()["spec"]
        expect(s["type"] == "LoadBalancer", s["type"])
        expect(s["selector"] == {"app": "mnist", "component": "inference"}, s["selector"])
        expect(selects(s["selector"], dep()["spec"]["template"]["metadata"]["labels"]), "selector")
        expect([(p["port"], p["targetPort"], p.get("protocol", "TCP")) for p in s["ports"]] ==
               [(80, 5000, "TCP")], s["ports"])
        expect(not selects(s["selector"], job()["spec"]["template"]["metadata"]["labels"]),
               "the Service must not select the training pod")

    @c("PodDisruptionBudget maxUnavailable 1 over the inference pods")
    def _():
        p = pdb()
        expect(p["apiVersion"] == "policy/v1", p["apiVersion"])
        expect(p["spec"].get("maxUnavailable") == 1 and "minAvailable" not in p["spec"], p["spec"])
        expect(selects(p["spec"]["selector"]["matchLabels"], dep()["spec"]["template"]["metadata"]["labels"]),
               "selector")

    @c("HPA autoscaling/v2, 2-10 replicas on CPU, over the Deployment that requests CPU")
    def _():
        h = hpa()
        expect(h["apiVersion"] == "autoscaling/v2", h["apiVersion"])
        s = h["spec"]
        expect(s["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "mnist-inference"}, s["scaleTargetRef"])
        expect((s["minReplicas"], s["maxReplicas"]) == (2, 10), s)
        expect(s["minReplicas"] <= dep()["spec"]["replicas"] <= s["maxReplicas"], "replicas in range")
        expect([m["resource"]["name"] for m in s["metrics"] if m["type"] == "Resource"] == ["cpu"], s["metrics"])
        expect("cpu" in dc()["resources"]["requests"], "utilization needs a CPU request")

    @c("images come from the registry kube/build.sh set, one tag for both")
    def _():
        images = [jc()["image"], dc()["image"]]
        for image in images:
            name, tag, digest = _split_image(image)
            expect("/" in name and (tag or digest), f"{image}: not a registry image with a tag")
        expect(_split_image(images[0])[0].endswith("/mnist-train"), images[0])
        expect(_split_image(images[1])[0].endswith("/mnist-inference"), images[1])
        expect(_split_image(images[0])[1] == _split_image(images[1])[1], f"tags differ: {images}")

    @c("the images agree: UID 10001, EXPOSE 5000, PORT and MODEL_PATH")
    def _():
        train = dockerfile(os.path.join(top, "trainer", "Dockerfile"))
        infer = dockerfile(os.path.join(top, "fcgi", "Dockerfile"))
        expect(train["user"] == infer["user"] == f"{UID}:{UID}", (train.get("user"), infer.get("user")))
        expect(infer["expose"] == ["5000"] and infer["env"].get("PORT") == "5000", infer)
        expect(train["env"].get("MODEL_PATH") == infer["env"].get("MODEL_PATH") == MODEL_PATH,
               (train["env"], infer["env"]))
        expect(env_of(dc()).get("STATE_DIR", infer["env"].get("STATE_DIR")).startswith("/tmp/"), "STATE_DIR")

    access = lambda: pvc()["spec"]["accessModes"]
    pods = lambda: [jpod(), dpod()]
    if variant == "rwx":
        @c("ReadWriteMany volume, pods free to spread over nodes")
        def _():
            expect(access() == ["ReadWriteMany"], access())
            expect(pvc()["spec"].get("storageClassName"), "an RWX storage class")
            for spec in pods():
                expect("podAffinity" not in spec.get("affinity", {}), "no co-location needed")
            spread = dpod().get("topologySpreadConstraints", [])
            expect(any(t["topologyKey"] == "kubernetes.io/hostname" for t in spread), "spread over nodes")
    else:
        @c("ReadWriteOnce volume: every pod that mounts it is co-located on one node")
        def _():
            expect(access() == ["ReadWriteOnce"], access())
            for spec, meta in ((jpod(), job()["spec"]["template"]["metadata"]),
                               (dpod(), dep()["spec"]["template"]["metadata"])):
                terms = spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                expect(len(terms) == 1, terms)
                t = terms[0]
                expect(t["topologyKey"] == "kubernetes.io/hostname", t)
                expect(t["labelSelector"] == {"matchLabels": {POD_LABEL_VOLUME: "model-storage-pvc"}}, t)
                # the first such pod may go anywhere only if it matches its own term
                expect(selects(t["labelSelector"]["matchLabels"], meta["labels"]), "self-match")
            expect(not any(("podAntiAffinity" in s.get("affinity", {})) or s.get("topologySpreadConstraints")
                           for s in pods()), "nothing may push the pods apart")
    return checks

# ----------------------------------------------------------------------------- negative cases

def edited(objects, kind, fn):
    """A copy of objects in which fn has changed the first object of this kind."""
    out = copy.deepcopy(objects)
    fn(next(o for o in out if o["kind"] == kind))
    return out


def mutations(objects):
    """(description, mutated objects, what the error must mention) for known-bad input."""
    edit = functools.partial(edited, objects)

    def container(o):
        return o["spec"]["template"]["spec"]["containers"][0]

    def typo(o):
        c = container(o)
        c["livenesProbe"] = c.pop("livenessProbe")

    def rename_hpa(o):
        o["apiVersion"] = "autoscaling/v2beta2"

    return [
        ("schema", "an unknown field (livenesProbe) is refused",
         edit("Deployment", typo), "unknown field 'livenesProbe' (did you mean livenessProbe?)"),
        ("schema", "an unknown field deep inside (httpGet.pth) is refused",
         edit("Deployment", lambda o: container(o)["readinessProbe"]["httpGet"].update(pth="/x")),
         "unknown field 'pth'"),
        ("schema", "a wrong type (replicas: \"2\") is refused",
         edit("Deployment", lambda o: o["spec"].update(replicas="2")), "spec.replicas: expected int"),
        ("schema", "a wrong type (initialDelaySeconds: ten) is refused",
         edit("Deployment", lambda o: container(o)["readinessProbe"].update(initialDelaySeconds="ten")),
         "readinessProbe.initialDelaySeconds: expected int"),
        ("schema", "a wrong type (readOnly: \"yes\") is refused",
         edit("Deployment", lambda o: container(o)["volumeMounts"][0].update(readOnly="yes")),
         "readOnly: expected bool"),
        ("schema", "a list where an object belongs (securityContext: []) is refused",
         edit("Job", lambda o: container(o).update(securityContext=[])), "expected an object"),
        ("schema", "a bad quantity (memory: 256MB) is refused",
         edit("Deployment", lambda o: container(o)["resources"]["limits"].update(memory="256MB")),
         "is not a quantity"),
        ("schema", "a missing required field (container name) is refused",
         edit("Job", lambda o: container(o).pop("name")), "Invalid value for `name`"),
        ("schema", "a removed API version (autoscaling/v2beta2) is refused",
         edit("HorizontalPodAutoscaler", rename_hpa), "not a stable API version"),
        ("schema", "a removed API version (policy/v1beta1) is refused",
         edit("PodDisruptionBudget", lambda o: o.update(apiVersion="policy/v1beta1")), "not a stable"),
        ("contract", "a probe on the wrong path (/healthz) is caught",
         edit("Deployment", lambda o: container(o)["readinessProbe"]["httpGet"].update(path="/healthz")),
         "readinessProbe"),
        ("contract", "a Service selecting other pods is caught",
         edit("Service", lambda o: o["spec"]["selector"].update(component="web")), "Service"),
        ("contract", "a writable model mount in the Deployment is caught",
         edit("Deployment", lambda o: container(o)["volumeMounts"][0].pop("readOnly")), "read-only"),
        ("contract", "a root container (runAsUser 0) is caught",
         edit("Deployment", lambda o: o["spec"]["template"]["spec"]["securityContext"].update(runAsUser=0)),
         "restricted"),
        ("contract", "a missing capabilities drop is caught",
         edit("Job", lambda o: container(o)["securityContext"].pop("capabilities")), "restricted"),
        ("contract", "an object deploy.sh would never apply (no component label) is caught",
         edit("PodDisruptionBudget", lambda o: o["metadata"]["labels"].pop("component")),
         "never applied"),
        ("contract", "targetPort 8080 is caught",
         edit("Service", lambda o: o["spec"]["ports"][0].update(targetPort=8080)), "Service"),
    ]

# ----------------------------------------------------------------------------- main

class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok {self.passed + self.failed} - {what}")

    def not_ok(self, what, why):
        self.failed += 1
        print(f"not ok {self.passed + self.failed} - {what}")
        for line in (why if isinstance(why, list) else [str(why)]):
            print(f"#   {line}")

    def check(self, what, fn):
        try:
            fn()
        except AssertionError as e:
            self.not_ok(what, str(e))
        except (KeyError, IndexError, TypeError, StopIteration, ValueError) as e:
            self.not_ok(what, f"{type(e).__name__}: {e}")
        else:
            self.ok(what)

    def no_errors(self, what, errors):
        """ok when the list of errors found is empty."""
        if errors:
            self.not_ok(what, errors)
        else:
            self.ok(what)

    def refused(self, what, found, needle):
        """A negative case: ok when one of the errors found mentions needle."""
        if any(needle in e for e in found):
            self.ok(f"negative: {what}")
        else:
            self.not_ok(f"negative: {what}", found or ["nothing was reported"])

    def finish(self):
        """Prints the summary line; returns the exit status."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def cross_check(report, label, directory, objects):
    """`kubectl kustomize directory`, when kubectl is installed, must render objects."""
    try:
        theirs = kubectl_render(directory)
    except ValidationError as e:
        report.not_ok(f"{label} agrees with the renderer", e.errors)
        return
    if theirs is None:
        print(f"# {label}: kubectl not found; the renderer's output is not cross-checked")
        return
    key = lambda o: (o["kind"], o["metadata"]["name"])
    mine, other = {key(o): o for o in objects}, {key(o): o for o in theirs}
    if mine == other:
        report.ok(f"{label} renders the same {len(other)} objects")
    else:
        report.not_ok(f"{label} agrees with the renderer",
                      [f"{k}: differs" for k in sorted(set(mine) | set(other)) if mine.get(k) != other.get(k)])


def kubectl_render(directory):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    try:
        out = subprocess.run([kubectl, "kustomize", directory], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        raise ValidationError([f"kubectl kustomize {directory}: {out.stderr.strip()}"])
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def contract_failures(objects, variant, top):
    failures = []
    for what, fn in contract_checks(objects, variant, top):
        try:
            fn()
        except (AssertionError, KeyError, IndexError, TypeError, StopIteration, ValueError) as e:
            failures.append(f"{what}: {e}")
    return failures


def main(argv):
    kube = os.path.abspath(argv[1]) if len(argv) > 1 else os.path.join(TOP, "kube")
    top = os.path.dirname(kube)
    report = Report()
    variants = [("default", kube)]
    overlays = os.path.join(kube, "overlays")
    if os.path.isdir(overlays):
        variants += [(name, os.path.join(overlays, name)) for name in sorted(os.listdir(overlays))
                     if os.path.isdir(os.path.join(overlays, name))]
    expect_variants = {"default", "rwx"}
    report.check("kube/ has the default kustomization and the rwx overlay",
                 lambda: expect({v for v, _ in variants} >= expect_variants, [v for v, _ in variants]))

    # every manifest file on its own, before any rendering (kube/kserve holds KServe's
    # custom resources: tests/kube/validate-kserve.py checks them against KServe's CRDs)
    kserve = os.path.join(kube, "kserve")
    for root, _, files in sorted(os.walk(kube)):
        if os.path.commonpath([root, kserve]) == kserve:
            continue
        for f in sorted(files):
            if not f.endswith(".yaml") or f.startswith("kustomization"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, top)
            try:
                with open(path) as fh:
                    docs = load_yaml_docs(fh.read(), rel)
                errors = [e for d in docs for e in schema_errors(d)]
            except ValidationError as e:
                errors = e.errors
            report.no_errors(f"{rel}: valid against the Kubernetes API schema", errors)

    rendered = {}
    for variant, directory in variants:
        rel = os.path.relpath(directory, top)
        try:
            objects = render(directory)
        except ValidationError as e:
            report.not_ok(f"{variant}: {rel} renders", e.errors)
            continue
        report.ok(f"{variant}: {rel} renders ({len(objects)} objects)")
        rendered[variant] = objects
        cross_check(report, f"{variant}: kubectl kustomize", directory, objects)
        report.no_errors(f"{variant}: rendered objects valid against the API schema",
                         [e for o in objects for e in schema_errors(o)])
        for what, fn in contract_checks(objects, variant, top):
            report.check(what, fn)

    # the checks bite: each known-bad variant is refused, for the reason expected
    if "default" in rendered:
        base = rendered["default"]
        for layer, what, bad, needle in mutations(base):
            if layer == "schema":
                found = [e for o in bad for e in schema_errors(o)]
            else:
                found = contract_failures(bad, "default", top)
            report.refused(what, found, needle)
        # duplicate keys in YAML are refused at load time
        try:
            load_yaml_docs("a: 1\na: 2\n", "dup.yaml")
        except ValidationError:
            report.ok("negative: a duplicate key is refused")
        else:
            report.not_ok("negative: a duplicate key is refused", "loaded")
        # the renderer refuses what it does not implement rather than ignoring it
        try:
            json_patch({"a": 1}, [{"op": "move", "from": "/a", "path": "/b"}], "t")
        except ValidationError:
            report.ok("negative: an unimplemented kustomize feature is refused, not ignored")
        else:
            report.not_ok("negative: an unimplemented kustomize feature is refused, not ignored", "applied")

    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
