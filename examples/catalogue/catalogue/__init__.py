"""A product catalogue: categories within categories, products and their tags."""
