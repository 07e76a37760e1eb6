"""Style feature extraction and the fixed transform."""

from __future__ import annotations

import pytest

import ratings
from ratings.features import expand_control, transform

ANSWER = """# Title
Some **bold** text and __more__ with a [1] reference and https://example.org/x.

- item one
* item two
1. numbered

```python
# not a header
- not a list **not bold** https://code.example
```
"""


def test_extract_features_counts_outside_code_blocks() -> None:
    f = ratings.extract_features(ANSWER)
    assert set(f) == set(ratings.FEATURE_NAMES)
    assert f["markdown_header"] == 1
    assert f["markdown_list"] == 3
    assert f["markdown_bold"] == 2
    assert f["citations"] == 2
    assert f["length"] > 30


def test_extract_features_sums_assistant_turns_of_message_lists() -> None:
    messages = [
        {"role": "user", "content": "# ignored user header"},
        {"role": "assistant", "content": "## A"},
        {"role": "user", "content": "again"},
        {"role": "assistant", "content": [{"type": "text", "text": "## B\n**x**"}]},
    ]
    f = ratings.extract_features(messages)
    assert f["markdown_header"] == 2 and f["markdown_bold"] == 1
    assert ratings.extract_features(None)["length"] == 0


def test_extract_features_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        ratings.extract_features(42)  # type: ignore[arg-type]


def test_feature_sets_and_transform_are_fixed() -> None:
    assert ratings.FEATURE_SETS["markdown"] == ("markdown_header", "markdown_list", "markdown_bold")
    assert expand_control("length,markdown,length") == (
        "length",
        "markdown_header",
        "markdown_list",
        "markdown_bold",
    )
    assert transform(3.0, 1.0) == pytest.approx(0.4)
    assert transform(1.0, 3.0) == -transform(3.0, 1.0)
    assert isinstance(ratings.FEATURE_TRANSFORM_VERSION, str) and ratings.__version__
