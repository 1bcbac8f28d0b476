echo x
done
