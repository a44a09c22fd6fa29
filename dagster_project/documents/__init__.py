"""What every document we write shares: text measurement and layout, PDF previews."""
