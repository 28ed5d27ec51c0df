from probssl.cli import console_main

console_main()
