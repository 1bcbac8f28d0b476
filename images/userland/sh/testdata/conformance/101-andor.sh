true && echo a
false && echo b
false || echo c
true || echo d
false || false && echo e
true && false || echo f
