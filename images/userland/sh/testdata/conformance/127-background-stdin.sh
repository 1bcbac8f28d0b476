echo input | { cat & wait; }
echo end
