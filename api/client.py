"""Python client of the lps-init service.

Example::

    from api.client import Client

    with Client("http://localhost:8000", api_key="KEY") as c:
        job = c.solve(spec)                      # waits for the result, with a progress bar
        print(job["result"]["mode"], job["cached"])
        tensors = c.weights(job["id"], candidate=0)

    # initialise a torch model through the service (or in-process without a URL)
    from api.client import init_
    report = init_(model, x, y, url="http://localhost:8000", api_key="KEY")

Connection errors and 503 answers are retried with exponential backoff; every other
error raises a :class:`ServiceError` subclass that carries the server's reason.
``LPS_URL`` and ``LPS_API_KEY`` in the environment are the defaults for ``url`` and
``api_key``.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any, Mapping

import httpx

from solver.networks.activations import TORCH_MODULES

FINAL = ("done", "failed", "cancelled")


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------
class ServiceError(Exception):
    """An error answer of the service (or no answer at all).

    Attributes
    ----------
    status : int or None
        HTTP status (None when the service could not be reached).
    error : str
        The server's error code (``unauthorized``, ``limit_exceeded``, ...).
    reason : str
        The server's explanation.
    body : dict
        The whole error body (limits carry ``limit``, ``value``, ``max``; invalid requests
        ``detail`` with ``field`` and ``reason`` per error).
    """

    def __init__(self, status: int | None, error: str, reason: str, body: dict | None = None) -> None:
        self.status, self.error, self.reason, self.body = status, error, reason, dict(body or {})
        super().__init__(f"{status} {error}: {reason}" if status else f"{error}: {reason}")


class AuthError(ServiceError):
    """401 (missing or wrong API key) or 403 (not the job's owner)."""


class InvalidRequest(ServiceError):
    """422: the spec or system is invalid; ``body["detail"]`` names the fields."""


class LimitExceeded(ServiceError):
    """413, 429, or 422 with ``error == "limit_exceeded"``; ``body`` names the limit."""


class NotFound(ServiceError):
    """404: no such job or candidate."""


class Conflict(ServiceError):
    """409: the job is not in a state that allows the request."""


class ServiceUnavailable(ServiceError):
    """503 after all retries, or the service could not be reached."""


class JobFailed(ServiceError):
    """The job ended ``failed`` or ``cancelled``; ``body`` is the job."""


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        if not isinstance(body, dict):
            body = {"reason": str(body)}
    except ValueError:
        body = {"reason": response.text[:500] or response.reason_phrase}
    error = str(body.get("error", "http_error"))
    reason = str(body.get("reason", body.get("detail", response.reason_phrase)))
    code = response.status_code
    if code in (401, 403):
        cls: type[ServiceError] = AuthError
    elif code in (413, 429) or error == "limit_exceeded":
        cls = LimitExceeded
    elif code == 422:
        cls = InvalidRequest
    elif code == 404:
        cls = NotFound
    elif code == 409:
        cls = Conflict
    elif code == 503:
        cls = ServiceUnavailable
    else:
        cls = ServiceError
    raise cls(code, error, reason, body)


# --------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------
def _error_code(response: httpx.Response) -> str | None:
    """The ``error`` code of an error answer, None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


class Client:
    """A connection to one lps-init service.

    Parameters
    ----------
    url : str, optional
        Base URL, e.g. ``http://localhost:8000`` (default ``$LPS_URL``).
    api_key : str, optional
        Bearer key (default ``$LPS_API_KEY``).
    timeout : float
        Seconds per HTTP request.
    retries : int
        Extra attempts after a connection error or a 503.
    backoff : float
        First retry delay in seconds; doubles each retry (with jitter), at most 10 s.
    poll_interval : float
        Seconds between job polls while waiting.
    """

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 0.5,
        poll_interval: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = url or os.environ.get("LPS_URL")
        if not url:
            raise ValueError("no service URL: pass url= or set LPS_URL")
        api_key = api_key if api_key is not None else os.environ.get("LPS_API_KEY")
        headers = {"User-Agent": "lps-init-client"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.url = url.rstrip("/")
        self.retries, self.backoff, self.poll_interval = int(retries), float(backoff), float(poll_interval)
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # transport with retries --------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            delay = min(10.0, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
            try:
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:  # refused, reset, timed out: the service may be restarting
                last = exc
                if attempt < self.retries:
                    time.sleep(delay)
                    continue
                raise ServiceUnavailable(None, "unreachable",
                                         f"cannot reach {self.url} after {attempt + 1} attempts: {exc!r}") from exc
            # 503 (queue full, starting) and a rate limit's 429 ask to come back later
            later = response.status_code == 503 or (
                response.status_code == 429 and response.headers.get("Retry-After") is not None
                and _error_code(response) == "rate_limited")
            if later and attempt < self.retries:
                retry_after = response.headers.get("Retry-After")
                try:
                    delay = min(10.0, max(delay, float(retry_after))) if retry_after else delay
                except ValueError:
                    pass
                time.sleep(delay)
                continue
            _raise_for(response)
            return response
        raise ServiceUnavailable(None, "unreachable", f"cannot reach {self.url}: {last!r}")

    # endpoints ---------------------------------------------------------------------------
    def health(self) -> dict:
        """``GET /health``."""
        return self._request("GET", "/health").json()

    def metrics(self) -> str:
        """``GET /metrics`` (Prometheus text)."""
        return self._request("GET", "/metrics").text

    def job(self, job_id: str) -> dict:
        """``GET /jobs/{id}``: status, progress, result or error."""
        return self._request("GET", f"/jobs/{job_id}").json()

    def cancel(self, job_id: str) -> dict:
        """``DELETE /jobs/{id}``: cancel a queued or running job."""
        return self._request("DELETE", f"/jobs/{job_id}").json()

    def solve(self, spec: Any, wait: bool = True, progress: bool = True, timeout: float | None = None) -> dict:
        """``POST /solve`` with a layer spec.

        Parameters
        ----------
        spec : dict, JSON text or pydantic model
        wait : bool
            Poll until the job is final (else return the job as first answered).
        progress : bool
            A tqdm bar fed by the job's progress while waiting.
        timeout : float, optional
            Seconds to wait in all (``TimeoutError`` after; the job goes on on the server).

        Returns
        -------
        dict
            The job: ``id``, ``status``, ``cached``, ``progress``, ``result`` when done.

        Raises
        ------
        InvalidRequest, LimitExceeded, AuthError, JobFailed, ServiceUnavailable
        """
        params = None if wait else {"wait": 0}
        job = self._request("POST", "/solve", json=_spec_json(spec), params=params).json()
        return self.wait(job, progress=progress, timeout=timeout) if wait else job

    def solve_system(self, system: str, start: str = "auto", seed: int = 0, max_paths: int | None = None,
                     tracker: str = "default", wait: bool = True, progress: bool = True,
                     timeout: float | None = None) -> dict:
        """``POST /systems/solve``: a polynomial system in PHC text; the result is the
        ``lps solve`` JSON. Parameters as :meth:`solve`."""
        body: dict[str, Any] = {"system": system, "start": start, "seed": seed, "tracker": tracker}
        if max_paths is not None:
            body["max_paths"] = max_paths
        params = None if wait else {"wait": 0}
        job = self._request("POST", "/systems/solve", json=body, params=params).json()
        return self.wait(job, progress=progress, timeout=timeout) if wait else job

    def wait(self, job: dict | str, progress: bool = True, timeout: float | None = None) -> dict:
        """Poll a job until it is done; raises :class:`JobFailed` if it fails or is cancelled."""
        if isinstance(job, str):
            job = self.job(job)
        deadline = None if timeout is None else time.monotonic() + timeout
        bar = None
        try:
            while job["status"] not in FINAL:
                if progress:
                    bar = _update_bar(bar, job)
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"job {job['id']} is still {job['status']} after {timeout} s; "
                                       f"it goes on: poll it with Client.job({job['id']!r})")
                time.sleep(self.poll_interval)
                job = self.job(job["id"])
            if bar is not None:
                _update_bar(bar, job)
        finally:
            if bar is not None:
                bar.close()
        if job["status"] != "done":
            err = job.get("error") or {}
            raise JobFailed(None, f"job_{job['status']}", str(err.get("reason", job["status"])), job)
        return job

    def weights_bytes(self, job_id: str, candidate: int = 0, dtype: str = "float32") -> bytes:
        """``GET /jobs/{id}/weights?candidate=K``: the safetensors file."""
        return self._request("GET", f"/jobs/{job_id}/weights", params={"candidate": candidate, "dtype": dtype}).content

    def weights(self, job_id: str, candidate: int = 0, framework: str = "auto", dtype: str = "float32") -> dict:
        """One candidate's weights as tensors named ``"{k}.weight"`` and ``"{k}.bias"``.

        ``framework``: ``"torch"``, ``"numpy"`` or ``"auto"`` (torch when installed).
        """
        data = self.weights_bytes(job_id, candidate, dtype)
        if framework == "auto":
            try:
                import torch  # noqa: F401

                framework = "torch"
            except ImportError:
                framework = "numpy"
        if framework == "torch":
            from safetensors.torch import load

            return load(data)
        if framework == "numpy":
            from safetensors.numpy import load

            return load(data)
        raise ValueError(f"framework must be 'torch', 'numpy' or 'auto', not {framework!r}")

    def init_(self, model: Any, x: Any, y: Any = None, mode: str = "auto", candidate: int = 0,
              progress: bool = True, timeout: float | None = None, **options: Any) -> dict:
        """Initialise the ``nn.Linear`` layers of an ``nn.Sequential`` in place through the service.

        The spec is built from the model (widths, biases and the activation module after
        each Linear) and the data sample; ``options`` go into the spec (``weight_decay``,
        ``surrogate`` or the in-process keywords ``degree`` and ``interval``,
        ``candidates``, ``seed``, ``max_paths``). Integer class labels ``y`` are one-hot
        encoded.

        Returns
        -------
        dict
            The service's result without the weights, plus ``job_id`` and ``cached``.
        """
        spec = spec_from_model(model, x, y, mode=mode, **options)
        job = self.solve(spec, wait=True, progress=progress, timeout=timeout)
        tensors = self.weights(job["id"], candidate=candidate, framework="torch")
        load_into(model, tensors)
        report = {k: v for k, v in (job.get("result") or {}).items() if k != "candidates"}
        report["candidates"] = [{k: v for k, v in c.items() if k != "weights"} for c in job["result"].get("candidates", [])]
        report.update(job_id=job["id"], cached=job["cached"], candidate=candidate)
        return report


def _spec_json(spec: Any) -> Any:
    if hasattr(spec, "model_dump"):
        return spec.model_dump(mode="json", exclude_unset=False)
    if isinstance(spec, (str, bytes)):
        return json.loads(spec)
    if isinstance(spec, Mapping):
        return dict(spec)
    raise TypeError(f"spec must be a dict, JSON text or a pydantic model, not {type(spec).__name__}")


def _update_bar(bar: Any, job: dict) -> Any:
    prog = job.get("progress") or {}
    total, done = prog.get("total"), int(prog.get("done") or 0)
    if bar is None:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit=f" {prog.get('unit') or 'steps'}", desc=f"job {job['id'][:8]}", leave=False)
    if total is not None and bar.total != total:
        bar.total = total
        bar.unit = f" {prog.get('unit') or 'steps'}"
    bar.n = done
    bar.set_postfix_str(job["status"], refresh=False)
    bar.refresh()
    return bar


# --------------------------------------------------------------------------------------
# torch models <-> specs
# --------------------------------------------------------------------------------------
_IGNORED = ("Dropout", "Dropout1d", "AlphaDropout", "Flatten")


def _as_array(a: Any):
    import numpy as np

    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def spec_from_model(model: Any, x: Any, y: Any = None, mode: str = "auto", **options: Any) -> dict:
    """A layer spec for an ``nn.Sequential`` of ``nn.Linear`` and activation modules.

    Raises
    ------
    ValueError
        A module the service cannot describe (naming it), or no Linear layer.
    """
    import numpy as np

    modules = list(model.children()) if hasattr(model, "children") else []
    if not modules and type(model).__name__ == "Linear":
        modules = [model]
    layers: list[dict] = []
    for idx, m in enumerate(modules):
        name = type(m).__name__
        if name == "Linear":
            layers.append({"in_features": int(m.in_features), "out_features": int(m.out_features),
                           "activation": "identity", "bias": m.bias is not None})
        elif name in TORCH_MODULES:
            if not layers:
                raise ValueError(f"module {idx} ({name}) comes before any Linear layer")
            layers[-1]["activation"] = TORCH_MODULES[name]
            if name == "LeakyReLU":
                layers[-1]["negative_slope"] = float(m.negative_slope)
        elif name in _IGNORED:
            continue
        else:
            raise ValueError(
                f"module {idx} ({name}) is not supported by the service's init_: it takes an nn.Sequential "
                "of nn.Linear and activation modules (use the in-process init_ for convolutions)"
            )
    if not layers:
        raise ValueError("the model has no nn.Linear layer")
    xa = _as_array(x).astype(np.float64)
    if xa.ndim == 1:
        xa = xa[:, None]
    spec: dict[str, Any] = {"layers": layers, "data": {"x": xa.tolist()}, "mode": mode}
    if y is not None:
        ya = _as_array(y)
        out = layers[-1]["out_features"]
        if ya.ndim == 1 and np.issubdtype(ya.dtype, np.integer) and out > 1:
            if ya.min() < 0 or ya.max() >= out:
                raise ValueError(f"class labels must lie in 0..{out - 1} for a model with {out} outputs")
            ya = np.eye(out)[ya]
        ya = ya.astype(np.float64)
        if ya.ndim == 1:
            ya = ya[:, None]
        spec["data"]["y"] = ya.tolist()
    # the in-process init_'s keywords, spelled as the spec spells them
    surrogate = dict(options.pop("surrogate", None) or {})
    if "degree" in options:
        surrogate["degree"] = int(options.pop("degree"))
    if "interval" in options:
        surrogate["interval"] = [float(v) for v in options.pop("interval")]
    if surrogate:
        spec["surrogate"] = surrogate
    spec.update(options)
    return spec


def load_into(model: Any, tensors: Mapping[str, Any]) -> None:
    """Copy ``"{k}.weight"``/``"{k}.bias"`` into the k-th ``nn.Linear`` of the model, in place."""
    import torch

    linears = [m for m in (model.children() if hasattr(model, "children") else []) if type(m).__name__ == "Linear"]
    with torch.no_grad():
        for k, lin in enumerate(linears):
            w = tensors[f"{k}.weight"]
            if tuple(w.shape) != tuple(lin.weight.shape):
                raise ValueError(f"layer {k}: weights of shape {tuple(w.shape)} do not fit {tuple(lin.weight.shape)}")
            lin.weight.copy_(torch.as_tensor(w).to(lin.weight.dtype))
            if lin.bias is not None:
                lin.bias.copy_(torch.as_tensor(tensors[f"{k}.bias"]).to(lin.bias.dtype))


def init_(model: Any, x: Any, y: Any = None, mode: str = "auto", url: str | None = None,
          api_key: str | None = None, **options: Any) -> dict:
    """Initialise a torch model from a data sample: through the service at ``url`` (or
    ``$LPS_URL``), else with the in-process solver.

    Returns the report of whichever ran.
    """
    url = url or os.environ.get("LPS_URL")
    if url:
        with Client(url, api_key=api_key) as c:
            return c.init_(model, x, y, mode=mode, **options)
    from solver.init.pytorch import init_ as local_init

    return local_init(model, x, y, mode=mode, **options).to_json()
