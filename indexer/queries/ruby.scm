(method name: (_) @name) @definition.method
(singleton_method name: (_) @name) @definition.method
(class name: (constant) @name) @definition.class
(class name: (scope_resolution name: (constant) @name)) @definition.class
(module name: (constant) @name) @definition.module
(module name: (scope_resolution name: (constant) @name)) @definition.module
(assignment left: (constant) @name) @definition.constant

(call method: (identifier) @reference.call)
(call receiver: (constant) @reference.class)
(superclass (constant) @reference.type)
(superclass (scope_resolution name: (constant) @reference.type))
