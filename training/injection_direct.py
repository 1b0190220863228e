"""Train ``prompt_injection.direct.npz``: the direct-prompt model and its routing.

Usage: ``python -m training.injection_direct [--out DIR]`` (run by ``make models``
after ``train_classifiers``; reads the general ``prompt_injection.npz`` from the same
directory). See ``assay/validators/injection.py`` for how the two are combined.

The direct-prompt model is the general model's recipe (NB-LR document + segment
heads, C=64, segment mix 0.5) trained *without* BIPIA's attacked documents and
inserted attacks (BIPIA's clean contexts stay as negatives), with the round-3
deepset-style compositions and the family-A hard negatives repeated twice more.
Its logits are Platt-scaled on the non-BIPIA dev rows. Chosen on the dev split
only: the blend weight ``a`` = the smallest of 0.1..0.5 whose routed dev TPR at
1 % FPR reaches 0.90 (the issue's target; smaller ``a`` keeps more of the general
model's robustness to trigger words), and the threshold = the best dev F1 among
thresholds with dev FPR <= 1 %. Hard negatives (family B), benign/dev and a few
trivia questions are measured, never selected on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from assay.validators.injection import InjectionValidator
from assay.validators.metrics import best_f1_threshold, tpr_at_fpr
from training import hard_negatives
from training import train_classifiers as tc
from training.common import MODEL_DIR, Heads, Row, float32_at_most, load, save

NAME = "prompt_injection"
C = 64.0
MIX = 0.5
HARD_REPEAT = 2
BLEND_GRID = (0.1, 0.2, 0.3, 0.4, 0.5)
DOC_BREAKS = 2
TARGET_TPR1 = 0.90
SECTION = "## Direct-prompt model and routing (the run-time default)"
#: Plain questions a user asks: measured (never selected on) so that a model that
#: learned "a question can be an attack" shows it.
TRIVIA = ["What is the capital of Australia?", "Who wrote Hamlet?", "Who painted the Mona Lisa?",
          "What is the boiling point of water?", "When did World War II end?",
          "How many legs does a spider have?", "What is the largest planet in the solar system?",
          "Who discovered penicillin?", "Who is the president of France?",
          "What year did the Berlin Wall fall?"]


def direct_training_set(train_rows: list[Row]) -> tuple[list[str], list[int], list[str]]:
    """Train rows without BIPIA attacks, plus compositions and repeated hard negatives."""
    rows = [r for r in train_rows if not (r.source == "bipia" and r.label == 1)]
    spec = dataclasses.replace(tc.SPECS[NAME], bipia_diff=False, concat_aug=True)
    texts, labels, sources = tc.training_set(spec, rows)
    hard = hard_negatives.train_set() * HARD_REPEAT
    return texts + hard, labels + [0] * len(hard), sources + ["hard_negatives"] * len(hard)


def train_direct(texts: list[str], labels: list[int], dev: list[Row], tmp: Path) -> Heads:
    """The direct heads, Platt-scaled on the non-BIPIA dev rows."""
    heads = tc.with_mix(tc.train_heads(texts, labels, C, True), MIX)
    v = tc.as_validator(f"direct_raw_{len(texts)}_{len(dev)}", heads, 0.5, tmp)
    direct_dev = [r for r in dev if r.source != "bipia"]
    raw = tc.scores(v, [r.text for r in direct_dev])
    return tc.with_mix(heads, MIX, tc.platt(raw, [r.label for r in direct_dev]))


def write(heads: Heads, blend: float, threshold: float, general: Path, out: Path,
          name: str = NAME) -> InjectionValidator:
    """Write ``<name>.direct.npz`` (and the general model beside it) and load the validator."""
    out.mkdir(parents=True, exist_ok=True)
    if general.resolve() != (out / f"{name}.npz").resolve():
        shutil.copyfile(general, out / f"{name}.npz")
    save(f"{name}.direct", heads, threshold, out,
         extra={"blend": np.float32(blend), "routed_threshold": float32_at_most(threshold),
                "doc_breaks": np.int32(DOC_BREAKS)})
    return InjectionValidator(name, model_dir=out)


def choose_blend(heads: Heads, general: Path, dev: list[Row], tmp: Path
                 ) -> tuple[float, dict[str, float]]:
    """The smallest blend weight reaching the dev target (else the best one)."""
    texts, ys = [r.text for r in dev], [r.label for r in dev]
    grid: dict[str, float] = {}
    for a in BLEND_GRID:
        v = write(heads, a, 0.5, general, tmp / f"a{a}", f"pi_a{int(a * 10)}")
        grid[str(a)] = round(tpr_at_fpr(tc.scores(v, texts), ys, 0.01) or 0.0, 4)
    reaching = [a for a in BLEND_GRID if grid[str(a)] >= TARGET_TPR1]
    chosen = reaching[0] if reaching else max(BLEND_GRID, key=lambda a: grid[str(a)])
    return chosen, grid


def flagged(v: InjectionValidator, texts: list[str]) -> int:
    return sum(s >= v.threshold for s in tc.scores(v, texts))


def leave_one_source_out(blend: float, threshold: float, general_report: dict[str, object],
                         tmp: Path) -> dict[str, object]:
    """Both models retrained without a source; the routed validator scored on it."""
    spec = tc.SPECS[NAME]
    train_rows, dev = load("injection", "train"), load("injection", "dev")
    g_texts, g_labels, g_sources = tc.training_set(spec, train_rows)
    d_texts, d_labels, d_sources = direct_training_set(train_rows)
    calib = tuple(general_report["calibration"])  # type: ignore[arg-type]
    g_c, g_mix = float(general_report["C"]), float(general_report["segment_mix"])  # type: ignore[arg-type]
    out: dict[str, object] = {}
    for src in spec.holdout_sources:
        print(f"  leave out {src}", flush=True)
        keep_g = [i for i, s in enumerate(g_sources) if s != src]
        g = tc.with_mix(tc.train_heads([g_texts[i] for i in keep_g],
                                       [g_labels[i] for i in keep_g], g_c, True),
                        g_mix, (float(calib[0]), float(calib[1])))
        gpath = save(f"loso_{src}", g, threshold, tmp / "loso_general")
        keep_d = [i for i, s in enumerate(d_sources) if s != src]
        d = train_direct([d_texts[i] for i in keep_d], [d_labels[i] for i in keep_d],
                         [r for r in dev if r.source != src], tmp)
        v = write(d, blend, threshold, gpath, tmp / f"loso_{src}", f"loso_{src}")
        pos, neg = tc.held_out(src, train_rows, dev)
        out[src] = tc.held_out_metrics(tc.scores(v, pos), tc.scores(v, neg), threshold)
    return out


def train(out: Path = MODEL_DIR, loso: bool = True) -> dict[str, object]:
    t0 = time.time()
    general = out / f"{NAME}.npz"
    report_path = out / "training_report.json"
    if not report_path.exists():
        report_path = MODEL_DIR / "training_report.json"
    general_report = json.loads(report_path.read_text())[NAME]
    train_rows, dev = load("injection", "train"), load("injection", "dev")
    texts, labels, _ = direct_training_set(train_rows)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        heads = train_direct(texts, labels, dev, tmp)
        blend, grid = choose_blend(heads, general, dev, tmp)
        dev_texts, dev_y = [r.text for r in dev], [r.label for r in dev]
        probe = write(heads, blend, 0.5, general, tmp / "probe", "probe")
        dev_s = tc.scores(probe, dev_texts)
        threshold = best_f1_threshold(dev_s, dev_y, 0.01)
        v = write(heads, blend, threshold, general, out)
        benign = [r.text for r in load("benign", "dev")]
        hard = hard_negatives.eval_set()
        report: dict[str, object] = {
            "model": f"{NAME}.direct", "C": C, "segment_mix": MIX,
            "calibration": [round(x, 4) for x in heads.calib], "hard_repeat": HARD_REPEAT,
            "blend": blend, "grid_dev_tpr_at_1pct_fpr": grid, "doc_breaks": DOC_BREAKS,
            "threshold": round(threshold, 4), "train_rows": len(texts),
            "dev": tc.metrics_at(dev_s, dev_y, threshold),
            "hard_negatives_eval": {"n": len(hard),
                                    "fpr_at_threshold": round(flagged(v, hard) / len(hard), 4)},
            "benign_dev": {"n": len(benign), "flagged": flagged(v, benign)},
            "trivia_flagged": flagged(v, TRIVIA),
            "size_bytes": (out / f"{NAME}.direct.npz").stat().st_size,
        }
        if loso:
            report["leave_one_source_out"] = leave_one_source_out(blend, threshold,
                                                                  general_report, tmp)
    report["seconds"] = round(time.time() - t0, 1)
    write_card_section(report, out)
    return report


def write_card_section(report: dict[str, object], out: Path) -> None:
    """Replace the routed section at the end of ``prompt_injection.md``."""
    card = out / f"{NAME}.md"
    text = card.read_text(encoding="utf-8").split(SECTION)[0].rstrip() + "\n\n"
    dev = report["dev"]
    loso = report.get("leave_one_source_out", {})
    assert isinstance(dev, dict) and isinstance(loso, dict)
    lines = [
        SECTION, "",
        "The validator (`assay.validators.injection`) scores every text with the general model "
        f"above and with a direct-prompt model (`{NAME}.direct.npz`, "
        "`training/injection_direct.py`): the same recipe trained without BIPIA's attacked "
        "documents and inserted attacks (their clean contexts stay negatives), plus the round-3 "
        f"compositions and the family-A hard negatives repeated {report['hard_repeat']} more "
        "times; C=64, segment mix 0.5, Platt-scaled on the non-BIPIA dev rows "
        f"({report['calibration']}). A prompt gets `a * z_direct + (1 - a) * z_general`; a "
        "document (origin `document`, e.g. a gateway tool message, or at least "
        f"{report['doc_breaks']} line breaks when the origin is unknown) gets "
        "`max(blend, z_general)`.",
        "",
        f"Chosen on dev: a = {report['blend']}, the smallest of 0.1-0.5 whose routed dev "
        f"TPR@1%FPR reaches 0.90 (grid: {report['grid_dev_tpr_at_1pct_fpr']}); threshold "
        f"{report['threshold']} = best dev F1 among thresholds with dev FPR <= 0.01.",
        "",
        "| routed dev metric | value |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in dev.items()],
        "",
        f"At the threshold: hard negatives (family B) FPR {report['hard_negatives_eval']}; "
        f"benign/dev texts flagged {report['benign_dev']}; plain trivia questions flagged "
        f"{report['trivia_flagged']} of {len(TRIVIA)}.",
        "",
    ]
    if loso:
        lines += [
            "Leave one source out (both models retrained without the source, same a and "
            "threshold):", "",
            *tc.loso_table(loso),
            "",
        ]
    card.write_text(text + "\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--no-loso", action="store_true", help="skip leave-one-source-out")
    args = parser.parse_args(argv)
    report = train(args.out, loso=not args.no_loso)
    print(json.dumps(report, indent=1), flush=True)
    path = args.out / "training_report.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous[f"{NAME}.direct"] = report
    path.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
