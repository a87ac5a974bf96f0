"""The contents of tests/golden/synthetic-1.0.h5, defined here so the test can check every value."""

from __future__ import annotations

import numpy as np

from augment.io.dataset import SyntheticDataset


def golden_dataset() -> SyntheticDataset:
    images = (np.arange(5 * 8 * 8 * 1) * 7 % 256).astype(np.uint8).reshape(5, 8, 8, 1)
    return SyntheticDataset(
        images=images,
        labels=np.array([0, 0, 1, 1, 1], np.int64),
        class_names=("benign", "malignant"),
        realness=np.array([0.25, 0.5, 0.75, 1.0, 0.125], np.float32),
        nearest_real_index=np.array([1, 0, 2, 2, 3], np.int64),
        nearest_real_distance=np.array([0.5, 0.25, 0.125, 0.0625, 0.75], np.float32),
        near_copy=np.array([False, False, True, True, False]),
        real_sources=np.array([[0, 0], [1, 0], [2, 0], [2, 1]], np.int64),
        provenance={
            "format": "augment.synthetic",
            "format_version": "1.0",
            "run_id": "0123456789abcdef",
            "mode": "direct",
            "seed": 3,
            "inputs": [
                {
                    "path": "benign/a.png",
                    "class_name": "benign",
                    "sha256": "0" * 64,
                    "bytes": 10,
                    "frames": 1,
                },
                {
                    "path": "benign/b.png",
                    "class_name": "benign",
                    "sha256": "1" * 64,
                    "bytes": 11,
                    "frames": 1,
                },
                {
                    "path": "malignant/c.dcm",
                    "class_name": "malignant",
                    "sha256": "2" * 64,
                    "bytes": 12,
                    "frames": 2,
                },
                {
                    "path": "malignant/d.png",
                    "class_name": "malignant",
                    "sha256": "3" * 64,
                    "bytes": 0,
                    "frames": 0,
                    "skipped": "empty file (0 bytes)",
                },
            ],
            "classes": [
                {"class_name": "benign", "real": 2, "synthetic": 2},
                {"class_name": "malignant", "real": 2, "synthetic": 3},
            ],
        },
    )
