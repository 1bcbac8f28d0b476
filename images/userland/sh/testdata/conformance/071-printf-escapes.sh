printf 'tab\there\nq:\\ %%\n'
printf '%s\n' 'no\nescape'
printf '%b\n' 'yes\tescape'
