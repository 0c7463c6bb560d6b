"""The fakes and kits every test folder shares, imported as ``tests.fakes.<kit>`` everywhere."""
