echo 'a  b' 'it''s' '$HOME'
