package kernel

import (
	"fmt"

	"go.uber.org/zap"
)

// natsLog passes nats-server's log to zap: notices as info, so the
// embedded server is as quiet as the rest of vosd by default.
type natsLog struct{ l *zap.SugaredLogger }

func (n natsLog) Noticef(format string, v ...any) { n.l.Infof(format, v...) }
func (n natsLog) Warnf(format string, v ...any)   { n.l.Warnf(format, v...) }
func (n natsLog) Fatalf(format string, v ...any)  { n.l.Errorf("fatal: "+format, v...) }
func (n natsLog) Errorf(format string, v ...any)  { n.l.Errorf(format, v...) }
func (n natsLog) Debugf(format string, v ...any)  { n.l.Debugf(format, v...) }
func (n natsLog) Tracef(format string, v ...any)  { n.l.Debugf("trace: " + fmt.Sprintf(format, v...)) }
