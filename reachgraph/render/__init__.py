"""Renderers: text for terminals; Graphviz and Mermaid for diagrams. Pure: they return strings or objects."""
