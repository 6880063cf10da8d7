import jsonschema
import pytest

from docqueue.document import DocumentError, generated_schema, shipped_schema, validate_document

GOOD = {
    "id": "vnexpress:4954454", "url": "https://vnexpress.net/a-4954454.html",
    "canonical_url": "https://vnexpress.net/a-4954454.html", "site": "vnexpress", "title": "Tiêu đề",
    "text": "Đoạn một.\n\nĐoạn hai.", "published": "2025-10-22T19:25:00+07:00",
    "images": [{"url": "https://i/x.jpg", "caption": "Ảnh"}],
}


def test_shipped_schema_is_the_models_schema() -> None:
    assert shipped_schema() == generated_schema(), "regenerate: python -m docqueue.document > docqueue/schemas/..."


def test_good_document_validates_against_json_schema() -> None:
    doc = validate_document(GOOD).model_dump(mode="json")
    jsonschema.Draft202012Validator(shipped_schema()).validate(doc)
    assert doc["version"] == 1


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"published": "22/10/2025 19:25"}, "published"), ({"version": 0}, "version"),
     ({"id": ""}, "id"), ({"surprise": 1}, "surprise"), ({"images": [{"caption": "x"}]}, "images.0.url")],
)
def test_bad_document_refused_with_field_name(patch: dict, field: str) -> None:
    bad = {**GOOD, **patch}
    with pytest.raises(DocumentError) as err:
        validate_document(bad)
    assert repr(field) in str(err.value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(shipped_schema()).validate(bad)
