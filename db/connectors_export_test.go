package db

// StopConnectors stops the Kafka consumers and sinks, as Close does first; tests call it
// before Crash, which knows nothing of connectors.
func (d *DB) StopConnectors() { d.stopConnectors() }
