f=archive.tar.gz
echo ${f%.gz} ${f%.*} ${f%%.*}
x=file.txt
echo ${x%.txt}
