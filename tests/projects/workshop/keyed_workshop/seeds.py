"""How the workshop's ``seeddata/`` maps onto its tables, with alembic-seeds' public API.

Tools and materials are referred to by name; a tool's materials are rows of their own,
keyed by the tool and the material they join.
"""

from alembic_seeds import FileSpec, Ref, RowSpec, SeedSpec, Value

SPEC = SeedSpec(
    files=(
        FileSpec(
            "tools.jsonl",
            RowSpec(
                "tool",
                {"id": Value("id"), "name": Value("name"), "weight": Value("weight_grams")},
                label="{name}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "materials.jsonl",
            RowSpec(
                "material",
                {"id": Value("id"), "name": Value("name")},
                label="{name}",
                unique_label=True,
            ),
        ),
        FileSpec(
            "tool_materials.jsonl",
            RowSpec(
                "tool_material",
                {
                    "tool": Ref("tool_id", "tool"),
                    "material": Ref("material_id", "material"),
                    "share": Value("share_percent"),
                },
                label="{tool} / {material}",
            ),
        ),
    )
)
