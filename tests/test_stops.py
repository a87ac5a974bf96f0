"""Direct mode's stop policies (augment.gantk.direct.stops), each on its own and chained, and the policy
a configuration gets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from augment.gantk.direct import stops_for
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.direct.stops import (
    END,
    GO,
    UNDO,
    Chunk,
    chain,
    converged,
    convergence,
    near_copy_undo,
    novelty,
    step_budget,
)

IMAGES = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2, 1)  # three 2x2 images


def chunk(history=(), losses=(1.0,), near=None, images=IMAGES) -> Chunk:
    return Chunk(
        images, np.asarray(losses, np.float32), list(history), None if near is None else np.asarray(near)
    )


def test_converged_compares_the_loss_over_the_last_window():
    assert not converged([1.0, 0.5, 0.4], 3, 0.01)  # not longer than the window
    assert not converged([1.0, 0.5, 0.4, 0.3], 3, 0.01)  # fell 70 % over the last 3 steps
    assert converged([1.0, 0.5, 0.4, 0.3, 0.3, 0.3, 0.299], 3, 0.01)  # fell 0.3 %
    assert converged([1.0, 0.3, 0.31, 0.32, 0.33], 3, 0.01)  # rose
    assert converged([-1.0, -1.0, -1.0, -1.0], 3, 0.01)  # a flat negative loss


def test_the_step_budget_ends_a_problem_at_its_last_step():
    stop = step_budget(20)
    assert stop.update(None, chunk(history=[0.0] * 9, losses=[0.0] * 10)) == (GO, None)
    assert stop.update(None, chunk(history=[0.0] * 10, losses=[0.0] * 10)) == (END, None)


def test_convergence_counts_the_chunk_it_is_given():
    stop = convergence(3, 0.01)
    assert stop.update(None, chunk(history=[1.0, 0.5], losses=[0.4, 0.3]))[0] == GO
    assert stop.update(None, chunk(history=[1.0, 0.5, 0.4], losses=[0.3, 0.3, 0.3, 0.299]))[0] == END


def test_the_near_copy_undo_spares_the_first_chunk_and_undoes_a_later_one_past_its_share():
    stop = near_copy_undo(0.5)
    assert stop.update(None, chunk(history=[], near=[True, True, True]))[0] == GO  # the first stands
    assert stop.update(None, chunk(history=[1.0], near=[True, False, False]))[0] == GO  # 1/3 <= 0.5
    assert stop.update(None, chunk(history=[1.0], near=[True, True, False]))[0] == UNDO  # 2/3 > 0.5


def test_the_novelty_stop_keeps_each_images_last_novel_version_and_writes_it():
    stop = novelty()
    start = np.zeros_like(IMAGES)
    verdict, novel = stop.update(start, chunk(near=[False, True, False]))
    assert verdict == GO
    np.testing.assert_array_equal(novel, np.stack([IMAGES[0], start[1], IMAGES[2]]))
    later = IMAGES + 100
    written = stop.finish(novel, later, np.asarray([True, True, False]))
    np.testing.assert_array_equal(written, np.stack([IMAGES[0], start[1], later[2]]))


def test_a_chain_says_the_strongest_verdict_and_passes_the_novel_images_through():
    start = np.zeros_like(IMAGES)
    both = chain(step_budget(1), near_copy_undo(0.0), novelty())
    verdict, novel = both.update(start, chunk(history=[1.0], near=[True, False, False]))
    assert verdict == UNDO  # over END (the budget is spent) and GO
    np.testing.assert_array_equal(novel, np.stack([start[0], IMAGES[1], IMAGES[2]]))
    assert chain(step_budget(5), convergence(50, 0.001)).update(None, chunk())[0] == GO
    assert chain(step_budget(5), step_budget(1)).update(None, chunk())[0] == END
    np.testing.assert_array_equal(chain(step_budget(1)).finish(None, IMAGES, None), IMAGES)


@pytest.mark.parametrize(
    "guarded, convergence_stop, verdicts",
    [
        (False, False, [GO, END]),  # the budget alone: near-copies do not matter without a floor
        (True, False, [UNDO, UNDO]),  # every image a near-copy after a later chunk
        (False, True, [END, END]),  # a flat loss has converged
    ],
)
def test_a_configuration_gets_the_policies_it_asks_for(guarded, convergence_stop, verdicts):
    config = SynthesisConfig(steps=8, convergence_stop=convergence_stop, convergence_window=2)
    config = dataclasses.replace(config, max_near_copy_fraction=0.5)
    stop = stops_for(config, guarded)
    novel = np.zeros_like(IMAGES) if guarded else None
    near = [True, True, True] if guarded else None
    said = [
        stop.update(novel, chunk(history=[1.0] * done, losses=[1.0] * 4, near=near))[0] for done in (3, 4)
    ]
    assert said == verdicts
