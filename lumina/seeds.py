"""How the Lumina reference data is written in ``seeddata/``.

Texts are written in place, English and Hebrew side by side with the id of their
``Translation`` row; every other reference names its row by label (an English name,
``name @ university`` where names repeat across universities, ``module:NAME`` or
``course:NAME @ UNIVERSITY`` for the blocks of the prerequisite graph).
"""

from alembic_seeds import FileSpec, Links, Owned, Ref, RowSpec, SeedSpec, Value

TRANSLATION = RowSpec(
    "Translation",
    {"id": Value("id"), "en": Value("en_text"), "he": Value("he_text")},
    label="{en}",
    # Reviews show a text in both languages.
    display="{en} | {he}",
)

BLOCK = RowSpec("Block", {"id": Value("id")})


def _text(column: str) -> Ref:
    return Ref(column, "Translation", inline=True)


SPEC = SeedSpec(
    files=(
        FileSpec(
            "institutions/universities.jsonl",
            RowSpec(
                "University",
                {"id": Value("id"), "name": _text("translationId")},
                label="{name}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "institutions/faculties.jsonl",
            RowSpec(
                "Faculty",
                {
                    "id": Value("id"),
                    "university": Ref("universityId", "University"),
                    "name": _text("translationId"),
                    "description": _text("descriptionId"),
                },
                label="{name} @ {university}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "institutions/disciplines.jsonl",
            RowSpec(
                "Discipline",
                {
                    "id": Value("id"),
                    "faculty": Ref("facultyId", "Faculty"),
                    "name": _text("translationId"),
                },
                label="{name}",
            ),
        ),
        FileSpec(
            "catalog/degrees.jsonl",
            RowSpec(
                "Degree",
                {
                    "id": Value("id"),
                    "university": Ref("universityId", "University"),
                    # Optional: a degree not assigned to a faculty leaves it out.
                    "faculty": Ref("facultyId", "Faculty"),
                    "name": _text("translationId"),
                },
                label="{name} @ {university}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "catalog/courses.jsonl",
            RowSpec(
                "Course",
                {
                    "id": Value("id"),
                    "university": Ref("universityId", "University"),
                    "block": Owned("blockId", "Block", "course:{owner}"),
                    "published_at": Value("publishedAt"),
                    "degrees": Links("_CourseToDegree", "A", "B", "Degree"),
                    "name": _text("translationId"),
                },
                label="{name} @ {university}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "curriculum/modules.jsonl",
            RowSpec(
                "Module",
                {
                    "id": Value("id"),
                    "block": Owned("blockId", "Block", "module:{owner}"),
                    "parents": Links("_ModuleHierarchy", "A", "B", "Module"),
                    "courses": Links("_CourseModules", "B", "A", "Course"),
                    "name": _text("translationId"),
                },
                label="{name}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "curriculum/prerequisites.jsonl",
            RowSpec(
                "BlockRelationship",
                {
                    "id": Value("id"),
                    "from": Ref("prerequisiteId", "Block"),
                    "to": Ref("postrequisiteId", "Block"),
                },
                label="{from} -> {to}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "curriculum/prerequisite_metadata.jsonl",
            RowSpec(
                "RelationshipMetadata",
                {
                    "id": Value("id"),
                    "edge": Ref("blockRelationshipId", "BlockRelationship"),
                    "key": Value("key"),
                    "value": Value("value"),
                },
                label="{edge} [{key}]",
            ),
        ),
        FileSpec(
            "questions/questions.jsonl",
            RowSpec(
                "Question",
                {
                    "id": Value("id"),
                    "modules": Links("_ModuleToQuestion", "B", "A", "Module"),
                    "type": Value("type"),
                    "status": Value("validationStatus"),
                    "text": _text("translationId"),
                },
                label="{text}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "questions/question_parts.jsonl",
            RowSpec(
                "QuestionPart",
                {
                    "id": Value("id"),
                    "question": Ref("questionId", "Question"),
                    "order": Value("order"),
                    "part": Ref("partQuestionId", "Question"),
                },
                label="{question} [part {order}]",
            ),
        ),
        FileSpec(
            "questions/answers.jsonl",
            RowSpec(
                "Answer",
                {"id": Value("id"), "question": Ref("questionId", "Question")},
                label="{question}",
            ),
        ),
        FileSpec(
            "questions/choices.jsonl",
            RowSpec(
                "SelectAnswer",
                {
                    "id": Value("id"),
                    "answer": Ref("answerId", "Answer"),
                    "correct": Value("isCorrect"),
                    "text": _text("translationId"),
                },
                label="{answer} [choice {text}]",
            ),
        ),
        FileSpec(
            "questions/number_answers.jsonl",
            RowSpec(
                "NumberAnswer",
                {"id": Value("id"), "answer": Ref("answerId", "Answer"), "value": Value("value")},
                label="{answer} [number]",
            ),
        ),
        FileSpec(
            "questions/boolean_answers.jsonl",
            RowSpec(
                "BooleanAnswer",
                {"id": Value("id"), "answer": Ref("answerId", "Answer"), "value": Value("value")},
                label="{answer} [boolean]",
            ),
        ),
        FileSpec(
            "questions/unit_answers.jsonl",
            RowSpec(
                "UnitAnswer",
                {
                    "id": Value("id"),
                    "answer": Ref("answerId", "Answer"),
                    "value": Value("value"),
                    "unit": Value("unit"),
                },
                label="{answer} [unit]",
            ),
        ),
        # Texts that no row uses yet: the rest are written where they are used.
        FileSpec("translations.jsonl", TRANSLATION),
    ),
    embedded=(BLOCK,),
)
