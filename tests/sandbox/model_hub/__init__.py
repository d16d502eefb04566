"""The sandbox model hub: enough of the Hugging Face Hub HTTP API for huggingface_hub downloads."""
