import unittest

from graphql import build_schema

from pico_sim.schema import SDL_PATH as SCHEMA

from ..services import documents


class TestDocuments(unittest.TestCase):
    """Every document the addon sends is valid against PICO's schema."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schema = build_schema(SCHEMA.read_text())

    def test_all_documents_are_valid(self):
        self.assertEqual(documents.schema_problems(self.schema), {})

    def test_large_batches_are_valid(self):
        from graphql import parse, validate

        for kind in ("save", "cancel"):
            document = parse(documents.batched_mutation(kind, 120))
            self.assertEqual(validate(self.schema, document), [])

    def test_a_schema_without_cancel_is_reported(self):
        text = SCHEMA.read_text().replace(
            "operationOrderCancel(input: OperationOrderCancelInput!)",
            "operationOrderAbandon(input: OperationOrderCancelInput!)",
        )
        problems = documents.schema_problems(build_schema(text))
        self.assertEqual(list(problems), ["PicoOrderCancel"])
