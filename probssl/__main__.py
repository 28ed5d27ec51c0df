from probssl.cli import main

main()
