"""Start the ViT Explorer app: ``python app.py [--host 127.0.0.1] [--port 7860] [--model demo] ...``."""
from explorer.ui.app import main

if __name__ == "__main__":
    main()
