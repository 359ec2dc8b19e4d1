"""One module per channel; each turns platform input into `IncomingMessage` and renders `Reply`."""
