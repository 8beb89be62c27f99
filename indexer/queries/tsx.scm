; TSX: the TypeScript patterns (see languages.py) plus JSX element names.
(jsx_opening_element name: (identifier) @reference.class)
(jsx_self_closing_element name: (identifier) @reference.class)
