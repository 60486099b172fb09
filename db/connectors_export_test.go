package db

// StopConnectors stops the Kafka consumers and sinks, as Close does first; tests call it
// before Crash, which knows nothing of connectors.
func (d *DB) StopConnectors() { d.stopConnectors() }

// ConsumerRecords is how many records the Kafka consumer of a source or table has read
// since it started (0 when none runs).
func (d *DB) ConsumerRecords(name string) int64 {
	c := d.conns()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.sources[name]; s != nil {
		return s.Records()
	}
	return 0
}
