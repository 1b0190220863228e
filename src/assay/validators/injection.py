"""``prompt_injection``: a general model and a direct-prompt model, routed by origin.

Why two models: indirect attacks (BIPIA-style) are often ordinary questions or
requests hidden inside an e-mail, a table or tool output. A model trained on them
learns that a plain question can be an attack, and then flags users' own plain
questions; a model trained without them separates users' requests from attacks
better but cannot see an instruction that is out of place inside a document.

So a text is scored on both, as calibrated logits ``z_general`` and ``z_direct``:
a *prompt* (a user's request) gets the blend ``a * z_direct + (1 - a) * z_general``;
a *document* (tool output, retrieved content, a pasted file) gets
``max(blend, z_general)``, so the general model's view of hidden instructions is
never weakened. The origin comes from :attr:`CheckContext.origin` (the gateway sets
``document`` for tool messages); when it is unknown, a text with at least
``doc_breaks`` line breaks is treated as a document. ``a``, ``doc_breaks`` and the
threshold live in ``prompt_injection.direct.npz`` and were chosen on the dev split
by ``training/injection_direct.py`` (see the model card).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.validators.base import CheckContext
from assay.validators.linear import (
    MODEL_DIR,
    LinearModel,
    LinearTextValidator,
    ViewScorer,
    linear_model,
    load_once,
    sigmoid,
)

__all__ = ["InjectionValidator", "Routing", "is_document", "load_routing"]


@dataclass(frozen=True, slots=True)
class Routing:
    """The direct-prompt model and how its logit is combined with the general one."""

    direct: LinearModel
    blend: float
    threshold: float
    doc_breaks: int

    def combine(self, z_general: float, z_direct: float, document: bool) -> float:
        z = self.blend * z_direct + (1.0 - self.blend) * z_general
        return max(z, z_general) if document else z


def load_routing(name: str, directory: Path | None = None) -> Routing:
    """Load ``<name>.direct.npz`` once per process."""
    path = (directory or MODEL_DIR) / f"{name}.direct.npz"
    missing = (f"The direct-prompt model {path} is missing; rebuild it with `make models`.")

    def build(data: Any) -> Routing:
        return Routing(direct=linear_model(f"{name}.direct", path, data),
                       blend=float(data["blend"]), threshold=float(data["routed_threshold"]),
                       doc_breaks=int(data["doc_breaks"]))

    return load_once(path, missing, build)


def is_document(text: str, ctx: CheckContext | None, doc_breaks: int) -> bool:
    """Whether ``text`` is content (scored for hidden instructions) rather than a request."""
    origin = ctx.origin if ctx is not None else None
    if origin is not None:
        return origin == "document"
    return text.count("\n", 0, 100_000) >= doc_breaks


class InjectionValidator(LinearTextValidator):
    """:class:`LinearTextValidator` with the direct-prompt model blended in (see module doc).

    With ``embedding=True`` the embedding cascade, which was stacked on the general
    model alone, decides and the direct-prompt model is not used.
    """

    def __init__(self, name: str = "prompt_injection", *, threshold: float | None = None,
                 model: str | None = None, model_dir: str | Path | None = None,
                 embedding: bool = False) -> None:
        super().__init__(name, threshold=threshold, model=model, model_dir=model_dir,
                         embedding=embedding)
        self._routing: Routing | None = None
        if not embedding:
            self._routing = load_routing(model or name, Path(model_dir) if model_dir else None)
            if threshold is None:
                self.threshold = self._routing.threshold

    def _view_scorer(self, text: str, ctx: CheckContext | None) -> ViewScorer:
        general, routing = self._model, self._routing
        if routing is None:
            return super()._view_scorer(text, ctx)
        document = is_document(text, ctx, routing.doc_breaks)

        def score(view: str) -> tuple[float, int, int]:
            z_general, start, end = general.logit(view)
            z_direct = routing.direct.logit(view)[0]
            return sigmoid(routing.combine(z_general, z_direct, document)), start, end

        return score
