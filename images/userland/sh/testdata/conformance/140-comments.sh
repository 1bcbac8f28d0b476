# a comment
echo visible # trailing comment
echo not#comment
