"""The figures of an evaluation, one per line, for the terminal."""

from __future__ import annotations

from augment.evaluation.figures import Evaluation


def summary_lines(evaluation: Evaluation) -> list[str]:
    """The figures, one per line, for the terminal."""
    f = evaluation.figures
    p, px, ft = f["privacy"], f["pixel"], f["features"]
    ratio = "n/a" if p["privacy_ratio"] is None else f"{p['privacy_ratio']:.3f}"
    reference = p["reference_dcr_median"]
    lines = [
        f"{f['synthetic']}: {f['counts']['synthetic']} synthetic vs {f['counts']['train']} training images"
        + ("" if f["holdout"] is None else f" ({f['counts']['holdout']} held out)"),
        f"privacy ratio {ratio} (median DCR {p['dcr_median']:.4f} vs {p['reference']} "
        f"{reference if reference is None else round(reference, 4)})",
        f"near-copies: {len(p['near_copies'])} ({p['near_copy_fraction']:.1%})",
    ]
    for name, figures in (("pixels", px), (ft["space"], ft)):
        lines.append(
            f"{name}: precision {figures['precision']:.3f}, recall {figures['recall']:.3f}, density "
            f"{figures['density']:.3f}, coverage {figures['coverage']:.3f} (k={figures['k']}); "
            f"KID {figures['kid']:.4g} ± {figures['kid_std']:.2g} (subsets of {figures['subset_size']})"
        )
    real = f.get("realism")
    if real is not None:
        test, spectrum = real["c2st"], real["high_frequency"]
        if test["auc"] is not None:
            low, high = test["auc_interval"]
            ratio = "n/a" if spectrum["ratio"] is None else f"{spectrum['ratio']:.2f}"
            texture = real.get("c2st_texture") or {}
            texture_auc = "n/a" if texture.get("auc") is None else f"{texture['auc']:.3f}"
            lines.append(
                f"realism: C2ST AUC {test['auc']:.3f} on pixels (95 % {low:.3f}-{high:.3f}), {texture_auc} "
                f"on texture (grouped folds; 0.5: cannot tell them from the real images, well below: "
                f"hugging), high-frequency power ratio {ratio}: {real['verdict']}"
            )
    for name, counts in (real or {}).get("per_class", {}).items():
        lines.append(
            f"class {name}: {counts['blurred']} of {counts['images']} blurred, {counts['noisy']} noisy "
            f"(median fine-detail share {counts['synthetic_median']:.3g} vs real {counts['real_median']:.3g})"
        )
    copying = f.get("data_copying")
    if copying is not None and copying["c_t"] is not None:
        lines.append(
            f"data copying: C_T {copying['c_t']:.2f} (z {copying['z']:.2f}, {copying['cells_used']} of "
            f"{copying['cells']} cells; below 0: closer to the training images than held-out ones): "
            f"{copying['verdict']}; authenticity {copying['authenticity']:.2f} "
            f"(held-out images {copying['authenticity_holdout']:.2f})"
        )
    attack = f.get("membership_inference")
    if attack is not None:
        low, high = attack["auc_interval"]
        lines.append(
            f"membership inference ({attack.get('unit', 'image')}s): AUC {attack['auc']:.3f} "
            f"(95 % {low:.3f}-{high:.3f}), advantage "
            f"{attack['advantage']:.3f} at {attack['false_positive_rate']:.0%} false positives: "
            f"{attack['verdict']}"
        )
    if f["utility"] is not None:
        for name in ("svc", "logistic"):
            scores = f["utility"][name]
            shown = ", ".join(f"{k} {'n/a' if v is None else f'{v:.3f}'}" for k, v in scores.items())
            lines.append(f"utility ({name}, holdout accuracy): {shown}")
    return lines
