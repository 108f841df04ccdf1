#!/usr/bin/python3
"""Offline validation of kube/kserve/ against KServe's CRDs and the service's contract.

Run with Debian's /usr/bin/python3 (python3-yaml, python3-kubernetes):

    tests/kube/validate-kserve.py [KUBE_DIR]          (default: this tree's kube/)

KServe version: v0.20.0 (its release tag's config/crd/full/
serving.kserve.io_servingruntimes.yaml and serving.kserve.io_inferenceservices.yaml).
No file of KServe's is copied or read at run time: the part of those CRDs that our
manifests use is written down below (SERVING_RUNTIME, INFERENCE_SERVICE: field names,
types, required keys, enumerations, as that version defines them), and every object is
walked against it. Where a CRD embeds a Kubernetes core type (Container, Volume,
Affinity, PodSecurityContext, DeploymentStrategy, ObjectMeta), the object is checked
with python3-kubernetes' model of that type, as validate-manifests.py does.

1. Schema: unknown fields, wrong types, missing required keys, values outside an
   enumeration. A field the CRD has but this subset leaves out is reported as such (add
   it here from the CRD before using it).
2. Semantics, as KServe v0.20.0 behaves: the InferenceService names the runtime and
   its model format matches one the runtime supports (name, version; KServe's own rule),
   protocol v2 on both sides, the container kserve-container listens (PORT) on the
   first container port, which KServe's Service targets, the probes ask our v2 health
   endpoints on that port, the model path is where KServe mounts `pvc://NAME/DIR` (the
   PVC itself at /mnt/models, subPath DIR, read-only) and where the training Job
   writes it, the PVC is kube/base's, the pod KServe would build satisfies the
   restricted Pod Security Standard, the grace period covers the drain, the image is
   the one kube/base deploys.
3. The kustomization renders (our own renderer, and `kubectl kustomize` when
   installed) to the base's PVC, Job and PDB plus the two KServe objects.
4. Negative cases: mutated manifests must be refused, each for the reason expected.

Prints one "ok N - ..." or "not ok N - ..." line per check and "N passed, N failed".
"""

import copy
import functools
import importlib.util
import os
import posixpath
import re
import sys

# validate-manifests.py imports yaml and kubernetes.client (exit 77 without them)
HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("validate_manifests",
                                               os.path.join(HERE, "validate-manifests.py"))
vm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(vm)
yaml, k8s = vm.yaml, vm.k8s

KSERVE_VERSION = "v0.20.0"

# ----------------------------------------------------------------------------- schema subset
# Node forms: {"type": "string"|"integer"|"boolean", "enum": [...]},
# {"type": "object", "properties": {...}, "required": [...], "known": [...]}
# ("known": fields the CRD has that this subset does not describe), {"type": "array",
# "items": NODE}, {"type": "map", "values": NODE} (additionalProperties),
# {"k8s": "V1Container"} (a core type, checked with python3-kubernetes' model; its
# "known": fields the CRD's copy of the type has and the client's older model lacks),
# and {"k8s": "V1Container", "plus": {...}} (a core type inlined with more fields).

STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
STR_MAP = {"type": "map", "values": STR}


def obj(properties, required=(), known=()):
    return {"type": "object", "properties": properties, "required": list(required),
            "known": list(known)}


def arr(items):
    return {"type": "array", "items": items}


def top(api_version, kind, spec):
    # every CRD: apiVersion, kind, metadata (ObjectMeta), spec, status (set by KServe).
    # The CRDs mark none required; the API server requires apiVersion, kind and a name
    # (checked in schema_errors), and the enumerations are the one version we target.
    return obj({"apiVersion": {"type": "string", "enum": [api_version]},
                "kind": {"type": "string", "enum": [kind]},
                "metadata": {"k8s": "V1ObjectMeta"},
                "spec": spec}, required=["apiVersion", "kind", "metadata"],
               known=["status"])


# serving.kserve.io_servingruntimes.yaml, version v1alpha1, .spec (ServingRuntimeSpec);
# a ClusterServingRuntime's spec is the same type
SERVING_RUNTIME_SPEC = obj(
    {
        "supportedModelFormats": arr(obj({"name": STR, "version": STR, "autoSelect": BOOL,
                                          "priority": {"type": "integer", "minimum": 1}},
                                         required=["name"])),
        # an array of strings in the CRD; KServe's code knows v1, v2, grpc-v1, grpc-v2
        "protocolVersions": arr(STR),
        "multiModel": BOOL,
        "disabled": BOOL,
        "replicas": INT,
        "grpcEndpoint": STR, "grpcDataEndpoint": STR, "httpDataEndpoint": STR,
        # the container's "name" is required in the CRD, as in core/v1
        "containers": arr({"k8s": "V1Container",
                           "known": ["resizePolicy", "restartPolicy", "restartPolicyRules"]}),
        "volumes": arr({"k8s": "V1Volume", "known": ["image"]}),
        "nodeSelector": STR_MAP,
        "affinity": {"k8s": "V1Affinity"},
        "tolerations": arr({"k8s": "V1Toleration"}),
        "labels": STR_MAP,
        "annotations": STR_MAP,
        "imagePullSecrets": arr({"k8s": "V1LocalObjectReference"}),
        "hostIPC": BOOL,
        "schedulerName": STR,
    },
    required=["containers"],
    known=["builtInAdapter", "storageHelper", "workerSpec"])

SERVING_RUNTIME = top("serving.kserve.io/v1alpha1", "ServingRuntime", SERVING_RUNTIME_SPEC)

# serving.kserve.io_inferenceservices.yaml, version v1beta1, .spec.predictor.model
# (ModelSpec: a core/v1 Container, its name not required, plus KServe's fields)
MODEL_SPEC = {"k8s": "V1Container", "known": ["restartPolicy"], "plus": obj(
    {
        "modelFormat": obj({"name": STR, "version": STR}, required=["name"]),
        "runtime": STR,
        "runtimeVersion": STR,
        "protocolVersion": STR,
        "storageUri": STR,
    },
    known=["storage", "confidential", "resizePolicy", "restartPolicyRules"])}

# .spec.predictor (PredictorSpec: a core/v1 PodSpec, containers not required, plus
# KServe's ComponentExtensionSpec and the model)
PREDICTOR_SPEC = {"k8s": "V1PodSpec", "optional": ["containers"], "plus": obj(
    {
        "model": MODEL_SPEC,
        "minReplicas": INT,
        "maxReplicas": INT,
        "scaleTarget": INT,
        "scaleMetric": {"type": "string", "enum": ["cpu", "memory", "concurrency", "rps"]},
        "containerConcurrency": INT,
        "timeout": INT,
        "canaryTrafficPercent": INT,
        "labels": STR_MAP,
        "annotations": STR_MAP,
        "deploymentStrategy": {"k8s": "V1DeploymentStrategy"},
    },
    known=["autoScaling", "batcher", "logger", "scaleMetricType", "storageUris",
           "storageContainerName", "workerSpec", "huggingface", "lightgbm", "onnx",
           "paddle", "pmml", "pytorch", "sklearn", "tensorflow", "triton", "xgboost",
           "hostUsers", "hostnameOverride", "resourceClaims", "resources",
           "schedulingGates", "name", "os"])}

INFERENCE_SERVICE = top("serving.kserve.io/v1beta1", "InferenceService", obj(
    {"predictor": PREDICTOR_SPEC},
    required=["predictor"],
    known=["transformer", "explainer", "canary"]))

SCHEMAS = {"ServingRuntime": SERVING_RUNTIME, "InferenceService": INFERENCE_SERVICE}

# from KServe v0.20.0's Go code (not the CRD): the deployment-mode annotation's values
# and the protocol versions it knows
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
DEPLOYMENT_MODES = {"Standard", "RawDeployment", "Knative", "Serverless", "ModelMesh"}
RAW_MODES = {"Standard", "RawDeployment"}  # RawDeployment: its name before 0.16
PROTOCOLS = {"v1", "v2", "grpc-v1", "grpc-v2"}
# KServe's runtime container, the mount of the model, and its Service's default port
KSERVE_CONTAINER = "kserve-container"
MODEL_MOUNT = "/mnt/models"
KSERVE_DEFAULT_PORT = 8080

_TYPES = {"string": str, "integer": int, "boolean": bool}


def walk(value, node, path, errors):
    """Checks VALUE against schema NODE; appends 'path: message' to ERRORS."""
    if "k8s" in node:
        walk_core(value, node, path, errors)
        return
    kind = node["type"]
    if kind == "object":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        props = node["properties"]
        for key, item in value.items():
            if key in props:
                if item is not None:
                    walk(item, props[key], f"{path}.{key}", errors)
            elif key in node["known"]:
                errors.append(f"{path}.{key}: in KServe {KSERVE_VERSION}'s CRD but not in the subset "
                              "tests/kube/validate-kserve.py encodes: add it there from the CRD")
            else:
                close = [k for k in props if vm._similar(k, key)]
                hint = f" (did you mean {close[0]}?)" if close else ""
                errors.append(f"{path}: unknown field {key!r}{hint}")
        for key in node["required"]:
            if key not in value:
                errors.append(f"{path}: missing required field {key!r}")
    elif kind == "array":
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            walk(item, node["items"], f"{path}[{i}]", errors)
    elif kind == "map":
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for key, item in value.items():
            walk(item, node["values"], f"{path}.{key}", errors)
    else:
        want = _TYPES[kind]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            errors.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r}")
            return
        if "enum" in node and value not in node["enum"]:
            errors.append(f"{path}: {value!r} is not one of {node['enum']}")
        if "minimum" in node and value < node["minimum"]:
            errors.append(f"{path}: {value} is below the minimum {node['minimum']}")


def walk_core(value, node, path, errors):
    """A Kubernetes core type (plus KServe's fields inlined into it, if any)."""
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object, got {type(value).__name__}")
        return
    cls = getattr(k8s, node["k8s"])
    core_keys = set(cls.attribute_map.values())
    plus = node.get("plus")
    for key in value:
        if key in node.get("known", []):
            errors.append(f"{path}.{key}: in KServe {KSERVE_VERSION}'s CRD but not in the subset "
                          "tests/kube/validate-kserve.py encodes (python3-kubernetes' model lacks it)")
    mine = {k: v for k, v in value.items() if plus and k in plus["properties"]}
    rest = {k: v for k, v in value.items() if k not in mine and k not in node.get("known", [])}
    if plus:
        unknown = {k: v for k, v in rest.items() if k not in core_keys}
        walk(dict(mine, **unknown), plus, path, errors)
        rest = {k: v for k, v in rest.items() if k in core_keys}
    found = []
    vm.check_model(rest, cls, path, found)
    errors.extend(found)
    if not found:
        # the client's deserializer enforces the core type's required fields, except
        # those the CRD makes optional where KServe inlines the type (a model's name)
        probe = copy.deepcopy(rest)
        fillers = {"name": "x", "containers": []}
        for field in list(node.get("optional", [])) + (["name"] if plus else []):
            probe.setdefault(field, fillers[field])
        try:
            k8s.ApiClient()._ApiClient__deserialize(probe, cls.__name__)
        except (ValueError, TypeError) as e:
            errors.append(f"{path}: {e}")


def schema_errors(o):
    name = f"{o.get('kind', '?')}/{(o.get('metadata') or {}).get('name', '?')}"
    schema = SCHEMAS.get(o.get("kind"))
    if schema is None:
        return [f"{name}: not a kind this validator knows ({sorted(SCHEMAS)})"]
    errors = []
    walk(o, schema, o["kind"], errors)
    if not (o.get("metadata") or {}).get("name"):
        errors.append(f"{o['kind']}: metadata.name is required")
    return [f"{name}: {e}" for e in errors]

# ----------------------------------------------------------------------------- rendering


def load(path):
    with open(path) as f:
        return vm.load_yaml_docs(f.read(), path)


def render(kserve_dir):
    """kube/kserve: its ../base rendered by validate-manifests.py, its own files, the
    patches that delete a base object ($patch: delete, all it uses), then its images."""
    kz = load(os.path.join(kserve_dir, "kustomization.yaml"))[0]
    unknown = set(kz) - {"apiVersion", "kind", "resources", "patches", "images"}
    if unknown:
        raise vm.ValidationError([f"kube/kserve/kustomization.yaml: {sorted(unknown)} not implemented"])
    objects = []
    for res in kz.get("resources", []):
        full = os.path.normpath(os.path.join(kserve_dir, res))
        objects.extend(vm.render(full) if os.path.isdir(full) else load(full))
    for i, p in enumerate(kz.get("patches", [])):
        doc = yaml.safe_load(p.get("patch", "")) if set(p) == {"patch"} else None
        if not isinstance(doc, dict) or doc.get("$patch") != "delete":
            raise vm.ValidationError([f"kube/kserve/kustomization.yaml: patches[{i}]: only "
                                      "inline `$patch: delete` patches are implemented"])
        key = (doc.get("apiVersion"), doc.get("kind"), doc.get("metadata", {}).get("name"))
        hits = [o for o in objects if (o.get("apiVersion"), o["kind"], o["metadata"]["name"]) == key]
        if len(hits) != 1:
            raise vm.ValidationError([f"kube/kserve/kustomization.yaml: patches[{i}]: {key} "
                                      f"matches {len(hits)} objects"])
        objects.remove(hits[0])
    for image in kz.get("images", []):
        vm.set_image(objects, image, "kube/kserve/kustomization.yaml")
    return objects, kz

# ----------------------------------------------------------------------------- semantics


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def only(objects, kind):
    found = [o for o in objects if o.get("kind") == kind]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, found {len(found)}")
    return found[0]


def runtime_container(sr):
    found = [c for c in sr["spec"]["containers"] if c.get("name") == KSERVE_CONTAINER]
    expect(len(found) == 1, f"the ServingRuntime needs one container named {KSERVE_CONTAINER} "
           "(KServe merges the predictor's model into it)")
    return found[0]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def parse_pvc_uri(uri):
    """(claim, subPath) as KServe's ParsePvcURI splits pvc://NAME[/PATH]."""
    expect(isinstance(uri, str) and uri.startswith("pvc://"), f"storageUri {uri!r} is not pvc://")
    parts = uri[len("pvc://"):].split("/")
    return parts[0], "/".join(parts[1:])


def format_labels(formats, runtime_named):
    """The model-format labels a runtime offers, as KServe v0.20.0 computes them: every
    format when the InferenceService names the runtime, else the autoSelect ones."""
    labels = set()
    for f in formats:
        if runtime_named or f.get("autoSelect") is True:
            labels.add("mt:" + f["name"])
            if "version" in f:
                labels.add("mt:" + f["name"] + ":" + str(f["version"]))
    return labels


def kserve_pod(sr, isvc):
    """The pod spec KServe builds (Standard mode): the runtime's container and volumes,
    the predictor's pod fields and labels, and the PVC of storageUri at /mnt/models."""
    pred = isvc["spec"]["predictor"]
    container = copy.deepcopy(runtime_container(sr))
    claim, sub = parse_pvc_uri(pred["model"].get("storageUri"))
    mount = {"name": "kserve-pvc-source", "mountPath": MODEL_MOUNT, "readOnly": True}
    if sub:
        mount["subPath"] = sub
    container.setdefault("volumeMounts", []).append(mount)
    pod = {k: copy.deepcopy(v) for k, v in pred.items()
           if k in set(k8s.V1PodSpec.attribute_map.values()) - {"containers"}}
    pod["containers"] = [container]
    pod["volumes"] = copy.deepcopy(sr["spec"].get("volumes", [])) + [
        {"name": "kserve-pvc-source", "persistentVolumeClaim": {"claimName": claim}}]
    labels = dict(sr["spec"].get("labels", {}), **pred.get("labels", {}))
    return pod, labels


def semantic_checks(objects, top_dir, kz):
    sr = lambda: only(objects, "ServingRuntime")
    isvc = lambda: only(objects, "InferenceService")
    pred = lambda: isvc()["spec"]["predictor"]
    model = lambda: pred()["model"]
    c = lambda: runtime_container(sr())
    port = lambda: c()["ports"][0]["containerPort"]
    job = lambda: vm.one(objects, "Job", "mnist-training")
    checks = []

    def check(what):
        def register(fn):
            checks.append((what, fn))
            return fn
        return register

    @check("the InferenceService names the runtime, which supports its model format")
    def _():
        expect(model().get("runtime") == sr()["metadata"]["name"],
               f"predictor.model.runtime {model().get('runtime')!r} is not the ServingRuntime "
               f"{sr()['metadata']['name']!r}")
        mf = model()["modelFormat"]
        want = "mt:" + mf["name"] + (":" + str(mf["version"]) if "version" in mf else "")
        offered = format_labels(sr()["spec"].get("supportedModelFormats", []), True)
        expect(want in offered, f"model format {want} is not among the runtime's {sorted(offered)}")
        auto = format_labels(sr()["spec"].get("supportedModelFormats", []), False)
        expect(want in auto, f"model format {want}: autoSelect is off, so only an "
               "InferenceService naming the runtime finds it")
        expect(not sr()["spec"].get("disabled"), "the runtime is disabled")
        expect(sr()["spec"].get("multiModel") is not True, "one model per server (mnist)")

    @check("protocol v2 on both sides")
    def _():
        versions = sr()["spec"].get("protocolVersions", [])
        expect(set(versions) <= PROTOCOLS, f"protocolVersions {versions}: KServe knows {sorted(PROTOCOLS)}")
        expect(versions == ["v2"], f"the runtime speaks the Open Inference Protocol v2 only, not {versions}")
        expect(model().get("protocolVersion") == "v2", f"predictor.model.protocolVersion {model().get('protocolVersion')!r}")

    @check("kserve-container listens (PORT) on its one port, the one KServe's Service targets")
    def _():
        ports = c().get("ports", [])
        expect(len(ports) == 1, f"one container port (KServe's Service targets the first): {ports}")
        expect(ports[0].get("protocol", "TCP") == "TCP" and ports[0].get("name") in ("http1", None),
               f"an HTTP/1 port: {ports[0]}")
        expect(port() == KSERVE_DEFAULT_PORT, f"port {port()}, not KServe's default {KSERVE_DEFAULT_PORT}")
        expect(env_of(c()).get("PORT") == str(port()),
               f"PORT={env_of(c()).get('PORT')!r}: mnist-serve would not listen on {port()}")
        expect(env_of(c()).get("BIND", "0.0.0.0") == "0.0.0.0", "BIND must reach the pod's address")
        expect(not c().get("command") and not c().get("args"),
               "no command/args: the image's ENTRYPOINT mnist-serve takes none")

    @check("probes ask the v2 health endpoints (routes of fcgi/v2.c) on that port")
    def _():
        with open(os.path.join(top_dir, "fcgi", "v2.c")) as f:
            routes = f.read()
        for probe, path in (("readinessProbe", "/v2/health/ready"), ("livenessProbe", "/v2/health/live")):
            get = c()[probe]["httpGet"]
            expect(get["path"] == path, f"{probe} asks {get['path']}, not {path}")
            expect(get["port"] in (port(), "http1"), f"{probe} port {get['port']} is not {port()}")
            expect(path in routes, f"fcgi/v2.c does not answer {path}")

    @check("MODEL_PATH is where KServe mounts pvc://model-storage-pvc and the Job writes the model")
    def _():
        claim, sub = parse_pvc_uri(model().get("storageUri"))
        path = env_of(c()).get("MODEL_PATH", "")
        expect(path.startswith(MODEL_MOUNT + "/"), f"MODEL_PATH {path!r} is not under {MODEL_MOUNT}")
        on_volume = posixpath.normpath(posixpath.join(sub, path[len(MODEL_MOUNT) + 1:]))
        jc = job()["spec"]["template"]["spec"]["containers"][0]
        jpath = env_of(jc)["MODEL_PATH"]
        jmount = [m for m in jc["volumeMounts"] if jpath.startswith(m["mountPath"].rstrip("/") + "/")]
        expect(len(jmount) == 1, "the Job's MODEL_PATH is on one mount")
        jvol = vm.volume(job()["spec"]["template"]["spec"], jmount[0]["name"])
        expect(jvol["persistentVolumeClaim"]["claimName"] == claim,
               f"the Job writes to {jvol['persistentVolumeClaim']['claimName']}, KServe reads {claim}")
        written = posixpath.normpath(posixpath.join(jmount[0].get("subPath", ""),
                                                    jpath[len(jmount[0]["mountPath"].rstrip("/")) + 1:]))
        expect(on_volume == written, f"KServe's pod reads {on_volume} on the volume, the Job writes {written}")

    @check("the PVC is kube/base/pvc.yaml's")
    def _():
        claim, _ = parse_pvc_uri(model().get("storageUri"))
        base = load(os.path.join(top_dir, "kube", "base", "pvc.yaml"))[0]
        expect(claim == base["metadata"]["name"], f"storageUri names {claim}, kube/base/pvc.yaml {base['metadata']['name']}")
        expect(any(o["kind"] == "PersistentVolumeClaim" and o["metadata"]["name"] == claim for o in objects),
               "the kustomization deploys that PVC")

    @check("Standard (raw Deployment) mode, which the drain and the grace period need")
    def _():
        mode = (isvc()["metadata"].get("annotations") or {}).get(DEPLOYMENT_MODE_ANNOTATION)
        expect(mode in DEPLOYMENT_MODES, f"{DEPLOYMENT_MODE_ANNOTATION}={mode!r}: KServe knows {sorted(DEPLOYMENT_MODES)}")
        expect(mode in RAW_MODES, f"{DEPLOYMENT_MODE_ANNOTATION}={mode!r}: Knative forbids PORT, "
               "a volume at /tmp and terminationGracePeriodSeconds")

    @check("the grace period covers the drain (DRAIN_SECONDS + 10 s in flight + 2)")
    def _():
        drain = int(env_of(c()).get("DRAIN_SECONDS", "20"))
        grace = pred().get("terminationGracePeriodSeconds", 30)
        expect(grace >= drain + 12, f"terminationGracePeriodSeconds {grace} < {drain} + 12")
        strategy = pred().get("deploymentStrategy", {})
        expect(strategy.get("rollingUpdate", {}).get("maxUnavailable") == 0,
               "rollouts start a new pod before stopping one (maxUnavailable 0)")

    @check("the pod KServe builds satisfies the restricted Pod Security Standard")
    def _():
        pod, _ = kserve_pod(sr(), isvc())
        problems = vm.restricted_pod(pod, "predictor")
        expect(not problems, "restricted: " + "; ".join(problems))
        expect(pod.get("automountServiceAccountToken") is False, "no API token needed")
        expect(pod["securityContext"].get("runAsUser") == vm.UID, "runAsUser 10001 (the image's user)")

    @check("the predictor's pods join the volume's node and the base's PodDisruptionBudget")
    def _():
        _, labels = kserve_pod(sr(), isvc())
        expect(labels.get(vm.POD_LABEL_VOLUME) == "model-storage-pvc", "the mnist/volume label")
        terms = pred()["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        expect(any(t["topologyKey"] == "kubernetes.io/hostname" and
                   vm.selects(t["labelSelector"]["matchLabels"], labels) for t in terms),
               "a required podAffinity to the pods that mount the volume, on one node")
        pdb = vm.one(objects, "PodDisruptionBudget", "mnist-inference")
        expect(vm.selects(pdb["spec"]["selector"]["matchLabels"], labels), "the PDB selects the predictor's pods")
        expect((pred()["minReplicas"], pred()["maxReplicas"]) == (2, 10) and pred().get("scaleMetric") == "cpu",
               "2 to 10 replicas on CPU, as kube/base's HPA")

    @check("the image is kube/base's mnist-inference, its user and entrypoint mnist-serve")
    def _():
        base_kz = load(os.path.join(top_dir, "kube", "base", "kustomization.yaml"))[0]
        want = [i for i in base_kz.get("images", []) if i["name"] == "mnist-inference"]
        mine = [i for i in kz.get("images", []) if i["name"] == "mnist-inference"]
        expect(want and mine == want, f"kube/kserve/kustomization.yaml images {mine} differ from "
               f"kube/base's {want}: copy kube/base's mnist-inference entry (kube/build.sh writes base only)")
        image = c()["image"]
        expect(image.endswith(":" + str(want[0]["newTag"])) and image.startswith(want[0]["newName"]), image)
        df = vm.dockerfile(os.path.join(top_dir, "fcgi", "Dockerfile"))
        expect(df["user"] == f"{vm.UID}:{vm.UID}", df.get("user"))
        with open(os.path.join(top_dir, "fcgi", "Dockerfile")) as f:
            expect(re.search(r'^ENTRYPOINT \["/usr/local/bin/mnist-serve"\]', f.read(), re.M), "ENTRYPOINT")

    @check("the rendering: the base's PVC, Job and PDB, the runtime and the InferenceService")
    def _():
        kinds = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in objects)
        expect(kinds == ["InferenceService/mnist", "Job/mnist-training", "PersistentVolumeClaim/model-storage-pvc",
                         "PodDisruptionBudget/mnist-inference", "ServingRuntime/mnist-serve"], kinds)

    return checks


def semantic_failures(objects, top_dir, kz):
    failures = []
    for what, fn in semantic_checks(objects, top_dir, kz):
        try:
            fn()
        except (AssertionError, KeyError, IndexError, TypeError, ValueError) as e:
            failures.append(f"{what}: {e}")
    return failures

# ----------------------------------------------------------------------------- negative cases


def mutations(objects):
    """(layer, what, mutated objects, what the error must mention)."""
    edit = functools.partial(vm.edited, objects)

    rc = lambda o: o["spec"]["containers"][0]
    model = lambda o: o["spec"]["predictor"]["model"]

    def rename(d, old, new):
        d[new] = d.pop(old)

    return [
        ("schema", "an unknown field in the runtime's spec (supportedModelFormat) is refused",
         edit("ServingRuntime", lambda o: rename(o["spec"], "supportedModelFormats", "supportedModelFormat")),
         "unknown field 'supportedModelFormat' (did you mean supportedModelFormats?)"),
        ("schema", "an unknown field in a model format (autoselect) is refused",
         edit("ServingRuntime", lambda o: rename(o["spec"]["supportedModelFormats"][0], "autoSelect", "autoselect")),
         "unknown field 'autoselect'"),
        ("schema", "an unknown field in predictor.model (storageURI) is refused",
         edit("InferenceService", lambda o: rename(model(o), "storageUri", "storageURI")),
         "unknown field 'storageURI'"),
        ("schema", "an unknown field in the runtime's container (livenesProbe) is refused",
         edit("ServingRuntime", lambda o: rename(rc(o), "livenessProbe", "livenesProbe")),
         "unknown field 'livenesProbe'"),
        ("schema", "an unknown field in the predictor (minReplica) is refused",
         edit("InferenceService", lambda o: rename(o["spec"]["predictor"], "minReplicas", "minReplica")),
         "unknown field 'minReplica'"),
        ("schema", "a wrong type (autoSelect: \"true\") is refused",
         edit("ServingRuntime", lambda o: o["spec"]["supportedModelFormats"][0].update(autoSelect="true")),
         "autoSelect: expected boolean"),
        ("schema", "a wrong type (protocolVersions: v2, not a list) is refused",
         edit("ServingRuntime", lambda o: o["spec"].update(protocolVersions="v2")),
         "protocolVersions: expected a list"),
        ("schema", "a wrong type (minReplicas: \"2\") is refused",
         edit("InferenceService", lambda o: o["spec"]["predictor"].update(minReplicas="2")),
         "minReplicas: expected integer"),
        ("schema", "a wrong type (containerPort: \"8080\") is refused",
         edit("ServingRuntime", lambda o: rc(o)["ports"][0].update(containerPort="8080")),
         "containerPort: expected int"),
        ("schema", "a wrong type (terminationGracePeriodSeconds: 45s) is refused",
         edit("InferenceService", lambda o: o["spec"]["predictor"].update(terminationGracePeriodSeconds="45s")),
         "terminationGracePeriodSeconds: expected int"),
        ("schema", "a value outside the enumeration (scaleMetric: gpu) is refused",
         edit("InferenceService", lambda o: o["spec"]["predictor"].update(scaleMetric="gpu")),
         "'gpu' is not one of"),
        ("schema", "priority 0 (the CRD's minimum is 1) is refused",
         edit("ServingRuntime", lambda o: o["spec"]["supportedModelFormats"][0].update(priority=0)),
         "below the minimum 1"),
        ("schema", "a missing required key (the runtime's containers) is refused",
         edit("ServingRuntime", lambda o: o["spec"].pop("containers")), "missing required field 'containers'"),
        ("schema", "a missing required key (a model format's name) is refused",
         edit("ServingRuntime", lambda o: o["spec"]["supportedModelFormats"][0].pop("name")),
         "missing required field 'name'"),
        ("schema", "a missing required key (modelFormat.name) is refused",
         edit("InferenceService", lambda o: model(o)["modelFormat"].pop("name")), "missing required field 'name'"),
        ("schema", "a missing required key (spec.predictor) is refused",
         edit("InferenceService", lambda o: o["spec"].update(transformer=o["spec"].pop("predictor"))),
         "missing required field 'predictor'"),
        ("schema", "a missing required key (the runtime container's name) is refused",
         edit("ServingRuntime", lambda o: rc(o).pop("name")), "Invalid value for `name`"),
        ("schema", "a field of the CRD outside the encoded subset is reported as such",
         edit("InferenceService", lambda o: o["spec"]["predictor"].update(logger={"mode": "all"})),
         "not in the subset"),
        ("schema", "another API version (serving.kserve.io/v1beta1 ServingRuntime) is refused",
         edit("ServingRuntime", lambda o: o.update(apiVersion="serving.kserve.io/v1beta1")), "is not one of"),
        ("semantic", "a mismatched model format (pytorch) is caught",
         edit("InferenceService", lambda o: model(o)["modelFormat"].update(name="pytorch")),
         "is not among the runtime's"),
        ("semantic", "a mismatched format version is caught",
         edit("InferenceService", lambda o: model(o)["modelFormat"].update(version="2")),
         "is not among the runtime's"),
        ("semantic", "another runtime's name is caught",
         edit("InferenceService", lambda o: model(o).update(runtime="kserve-mlserver")), "is not the ServingRuntime"),
        ("semantic", "protocol v1 is caught",
         edit("InferenceService", lambda o: model(o).update(protocolVersion="v1")), "protocolVersion"),
        ("semantic", "PORT that is not the container port is caught",
         edit("ServingRuntime", lambda o: rc(o)["env"][0].update(value="5000")), "would not listen"),
        ("semantic", "a probe on /health (not v2) is caught",
         edit("ServingRuntime", lambda o: rc(o)["readinessProbe"]["httpGet"].update(path="/health")),
         "readinessProbe asks /health"),
        ("semantic", "a probe on another port is caught",
         edit("ServingRuntime", lambda o: rc(o)["livenessProbe"]["httpGet"].update(port=5000)),
         "livenessProbe port 5000"),
        ("semantic", "another PVC is caught",
         edit("InferenceService", lambda o: model(o).update(storageUri="pvc://models/mnist")),
         "KServe reads models"),
        ("semantic", "a model path outside the PVC's mount is caught",
         edit("ServingRuntime", lambda o: rc(o)["env"][1].update(value="/mnt/model-storage/mnist_model.safetensors")),
         "is not under /mnt/models"),
        ("semantic", "a storageUri with a directory the Job does not write to is caught",
         edit("InferenceService", lambda o: model(o).update(storageUri="pvc://model-storage-pvc/models")),
         "KServe's pod reads models/mnist_model.safetensors"),
        ("semantic", "Knative mode is caught",
         edit("InferenceService", lambda o: o["metadata"]["annotations"].update(
             {DEPLOYMENT_MODE_ANNOTATION: "Knative"})), "Knative forbids"),
        ("semantic", "a grace period shorter than the drain is caught",
         edit("InferenceService", lambda o: o["spec"]["predictor"].update(terminationGracePeriodSeconds=30)),
         "terminationGracePeriodSeconds 30"),
        ("semantic", "a root pod (runAsUser 0) is caught",
         edit("InferenceService", lambda o: o["spec"]["predictor"]["securityContext"].update(runAsUser=0)),
         "restricted"),
        ("semantic", "no writable /tmp (the runtime's emptyDir gone) is caught",
         edit("ServingRuntime", lambda o: rc(o).pop("volumeMounts")), "no writable volume at /tmp"),
        ("semantic", "a runtime container not named kserve-container is caught",
         edit("ServingRuntime", lambda o: rc(o).update(name="mnist")), "named kserve-container"),
        ("semantic", "predictor pods without the volume's label are caught",
         edit("InferenceService", lambda o: o["spec"]["predictor"]["labels"].pop("mnist/volume")),
         "mnist/volume label"),
    ]

# ----------------------------------------------------------------------------- main


def main(argv):
    kube = os.path.abspath(argv[1]) if len(argv) > 1 else os.path.join(vm.TOP, "kube")
    top_dir = os.path.dirname(kube)
    kserve_dir = os.path.join(kube, "kserve")
    report = vm.Report()
    print(f"# KServe {KSERVE_VERSION}: ServingRuntime serving.kserve.io/v1alpha1, "
          "InferenceService serving.kserve.io/v1beta1")

    for f in ("servingruntime.yaml", "inferenceservice.yaml"):
        rel = os.path.join("kube", "kserve", f)
        try:
            errors = [e for d in load(os.path.join(kserve_dir, f)) for e in schema_errors(d)]
        except vm.ValidationError as e:
            errors = e.errors
        report.no_errors(f"{rel}: valid against KServe {KSERVE_VERSION}'s CRD", errors)

    try:
        objects, kz = render(kserve_dir)
    except (vm.ValidationError, OSError) as e:
        report.not_ok("kube/kserve renders", getattr(e, "errors", str(e)))
        report.finish()
        return 1
    report.ok(f"kube/kserve renders ({len(objects)} objects)")
    vm.cross_check(report, "kubectl kustomize kube/kserve", kserve_dir, objects)
    report.no_errors("rendered objects valid (KServe's CRDs, the Kubernetes API)",
                     [e for o in objects for e in (schema_errors(o) if o["kind"] in SCHEMAS else vm.schema_errors(o))])

    for what, fn in semantic_checks(objects, top_dir, kz):
        report.check(what, fn)

    for layer, what, bad, needle in mutations(objects):
        if layer == "schema":
            found = [e for o in bad if o["kind"] in SCHEMAS for e in schema_errors(o)]
        else:
            found = semantic_failures(bad, top_dir, kz)
        report.refused(what, found, needle)
    # the images must agree with kube/base's: a differing tag is caught
    bad_kz = copy.deepcopy(kz)
    bad_kz["images"][0]["newTag"] = "stale"
    report.refused("an image tag that differs from kube/base's is caught",
                   semantic_failures(objects, top_dir, bad_kz), "differ from kube/base")

    return report.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
