; Definitions: the node tagged @definition.<kind>, its name tagged @name.
(class_definition name: (identifier) @name) @definition.class
(function_definition name: (identifier) @name) @definition.function
(module (expression_statement (assignment left: (identifier) @name) @definition.variable))

; References: the identifier itself, tagged @reference.<kind>.
(call function: (identifier) @reference.call)
(call function: (attribute attribute: (identifier) @reference.call))
(decorator (identifier) @reference.call)
(class_definition superclasses: (argument_list (identifier) @reference.type))
(class_definition superclasses: (argument_list (attribute attribute: (identifier) @reference.type)))
(type (identifier) @reference.type)
(generic_type (identifier) @reference.type)
(import_from_statement name: (dotted_name (identifier) @reference.import .))
(import_from_statement name: (aliased_import name: (dotted_name (identifier) @reference.import .)))
