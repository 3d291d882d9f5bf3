from orderengine.cli import main

main()
